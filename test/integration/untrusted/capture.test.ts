// Runs only in a folder VS Code does not trust: a capture path passed as an argument is not enough to write.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CaptureResult } from '../../../src/vscode/captureCommands';
import { getApi } from '../helpers';

describe('Capture in a folder VS Code does not trust', () => {
  it('asks where to write with the save dialog, even when given a path, and writes nothing when it is cancelled', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    await getApi();
    const dir = mkdtempSync(join(tmpdir(), 'udpw-capture-untrusted-'));
    try {
      for (const command of ['udpWorkbench.startCapture', 'udpWorkbench.saveCapture']) {
        const path = join(dir, `${command}.pcapng`);
        const pending = vscode.commands.executeCommand<CaptureResult | undefined>(command, { path });
        // The save dialog is the workbench's own (a quick input here); Escape cancels it.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        assert.equal(await pending, undefined, `${command} wrote without asking`);
        assert.equal(existsSync(path), false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
