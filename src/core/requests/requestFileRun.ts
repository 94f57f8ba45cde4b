import type { RequestBlock, RequestFile } from './requestFile';
import { sendRequestBlock, summarizeRun, type BlockResult, type BlockSender, type RunSummary, type SendDefaults } from './requestRun';

/**
 * Run All: how a `.udp` file's blocks are run and what counts as a pass. The editor and the command line both call
 * it, so the same file gives the same results in both.
 */

export interface FileRunOptions {
  /** Stops the run at the block being sent, which reports how far it got; no later block is sent. */
  readonly signal?: AbortSignal;
  /** Stop after the first block that did not pass (a command line's `--bail`). */
  readonly bail?: boolean;
  /** The `{{$seq}}` of a block's first datagram, given how many the block sends; numbers go on across runs. */
  readonly nextSeq: (count: number) => number;
  /** Called before each block is sent; `report` carries a burst's progress. */
  readonly onBlockStart?: (block: RequestBlock) => void;
  readonly report?: (block: RequestBlock, message: string) => void;
  readonly onBlockResult?: (block: RequestBlock, result: BlockResult) => void;
  /**
   * Sends one block, given the plain send; the editor asks first in a folder it does not trust. Absent: every block
   * is sent.
   */
  readonly sendBlock?: (block: RequestBlock, send: () => Promise<BlockResult>) => Promise<BlockResult>;
}

export interface FileRunResult {
  readonly results: readonly BlockResult[];
  readonly summary: RunSummary;
  /** Every block passed: a burst that lost datagrams, a block not sent and a cancelled one do not. */
  readonly passed: boolean;
}

export async function runRequestFile(
  sender: BlockSender,
  file: RequestFile,
  defaults: SendDefaults,
  options: FileRunOptions,
): Promise<FileRunResult> {
  const results: BlockResult[] = [];
  for (const block of file.blocks) {
    if (options.signal?.aborted) break;
    options.onBlockStart?.(block);
    const send = (): Promise<BlockResult> =>
      sendRequestBlock(sender, file, block, defaults, options.nextSeq(block.repeat?.value ?? 1), {
        signal: options.signal,
        report: options.report && ((message) => options.report?.(block, message)),
      });
    const result = await (options.sendBlock ? options.sendBlock(block, send) : send());
    results.push(result);
    options.onBlockResult?.(block, result);
    if (options.bail && result.outcome !== 'passed') break;
  }
  const summary = summarizeRun(results);
  return { results, summary, passed: runPassed(summary) };
}

export function runPassed(summary: RunSummary): boolean {
  return summary.passed === summary.total;
}
