import type { Terminal } from './terminal';

/** At most this often a burst's progress line is redrawn. */
const REDRAW_MS = 100;

/** A burst's progress on one line of stderr, redrawn in place; nothing at all when stderr is not a terminal (a CI log). */
export function burstProgress(terminal: Terminal): { show(message: string): void; clear(): void } {
  let shown = false;
  let last = 0;
  return {
    show: (message) => {
      const now = performance.now();
      if (!terminal.errIsTerminal || now - last < REDRAW_MS) return;
      last = now;
      shown = true;
      terminal.err.write(`\r\u001b[2K${message}`);
    },
    clear: () => {
      if (!shown) return;
      shown = false;
      terminal.err.write('\r\u001b[2K');
    },
  };
}
