// Issue #25, target 4: what the capture ring buffer holds when full, against the payload bytes it keeps. The recorder
// fills a buffer of the default size with datagrams as a server's events carry them (a fresh Buffer each, as dgram
// hands them over); the memory the process keeps after garbage collection is set against the payloads.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CaptureBuffer } from '../src/core/capture/captureBuffer';
import { CaptureRecorder } from '../src/core/capture/captureRecorder';
import type { Peer, WorkbenchEvent } from '../src/core/events';
import { CAPTURE_BUFFER_SIZE } from './shippedViews';

export interface CaptureMemory {
  readonly datagrams: number;
  readonly size: number;
  readonly payloadBytes: number;
  /** What the buffer says it holds: its columns and its arena. */
  readonly footprintBytes: number;
  /** What the process keeps after garbage collection, heap and outside it, over what it kept before. */
  readonly retainedBytes: number;
}

const local: Peer = { address: '127.0.0.1', port: 9000, family: 'IPv4' };
const peer: Peer = { address: '127.0.0.1', port: 40000, family: 'IPv4' };

export async function captureMemory(size: number): Promise<CaptureMemory> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const kept = (): number => {
    // Twice: memory outside the heap (the arena's old copies) is let go once its Buffer is collected.
    gc();
    gc();
    const memory = process.memoryUsage();
    return memory.heapUsed + memory.external;
  };
  const before = kept();
  const buffer = new CaptureBuffer(CAPTURE_BUFFER_SIZE);
  const recorder = new CaptureRecorder(buffer);
  recorder.add({ kind: 'server-started', at: Date.now(), serverId: 'bench', local, exposed: false } as WorkbenchEvent);
  // Twice the capacity, so the arena has wrapped and the oldest have gone.
  for (let seq = 1; seq <= 2 * CAPTURE_BUFFER_SIZE; seq++) {
    const payload = Buffer.alloc(size, seq);
    recorder.add({ kind: 'received', at: Date.now(), serverId: 'bench', peer, payload, seq });
    recorder.flush();
    if (seq % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const after = kept();
  const payloadBytes = buffer.size * size;
  const result = { datagrams: buffer.size, size, payloadBytes, footprintBytes: buffer.footprint, retainedBytes: after - before };
  buffer.clear();
  return result;
}
