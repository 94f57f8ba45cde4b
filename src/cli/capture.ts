import { CaptureBuffer } from '../core/capture/captureBuffer';
import { CaptureFile } from '../core/capture/captureFile';
import { CaptureRecorder } from '../core/capture/captureRecorder';
import { messageOf } from '../core/errors';
import { CAPTURE_LIMITS } from '../core/limits';
import { plural } from '../core/stats';
import type { Workbench } from '../core/workbench/workbench';
import type { Terminal } from './terminal';

export interface RunningCapture {
  /** Writes what waits and closes the file; says how many datagrams it holds. */
  close(): Promise<string>;
}

/** `--capture FILE.pcapng`: every datagram the workbench sees, as the editor's Start Capture writes it. Throws when the file cannot be written. */
export async function startCapture(workbench: Workbench, path: string, terminal: Terminal): Promise<RunningCapture> {
  const file = await CaptureFile.create(path, { onError: (error) => terminal.err.write(`udpw: capture stopped: ${error.text}\n`) });
  // The file is what a terminal keeps; the smallest ring serves the recorder, which records into one.
  const recorder = new CaptureRecorder(new CaptureBuffer(CAPTURE_LIMITS.minBufferSize), file.add);
  const subscription = workbench.events.subscribe(recorder.add);
  return {
    close: async () => {
      subscription.dispose();
      recorder.flush();
      try {
        const { written, notWritten } = await file.close();
        return `capture ${path}: ${plural(written, 'datagram')}${notWritten > 0 ? `, ${notWritten} not written (the disk could not keep up)` : ''}`;
      } catch (error) {
        return `capture ${path}: ${messageOf(error)}`;
      }
    },
  };
}
