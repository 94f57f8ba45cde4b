// How the capture recorder sees each datagram: which way it went and what became of it. The traffic view's rows
// carry these too, so this module imports nothing: the webview's type check reaches it.

/** Seen from the workbench's sockets: into one of them, or out of one. */
export type TrafficDirection = 'in' | 'out';

/**
 * What became of a datagram, as far as the workbench knows; a request's fate changes when its answer comes. The one
 * list of them: the capture buffer stores each as its index here, the traffic filter takes them as words.
 */
export const TRAFFIC_FATES = [
  'received',
  'sent',
  'replied',
  'reply',
  'dropped',
  'rate-limited',
  'timed-out',
  'duplicated',
  'delayed',
  // A proxy sent it on (its copies are on the wire too), or sent this copy as it came.
  'forwarded',
  // A proxy's copy with a bit flipped by the simulation.
  'corrupted',
] as const;

export type TrafficFate = (typeof TRAFFIC_FATES)[number];
