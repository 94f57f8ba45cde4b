// What a test file leaves open: handles that keep Node's event loop alive (UDP sockets, timers…), file descriptors and
// child processes. The unit suite (.mocharc.json) and the integration host (test/integration/index.ts) check every
// test file with it, so a leak fails the file that caused it instead of hanging the run at its end.
import * as fs from 'node:fs';
import type Mocha from 'mocha';
import { formatEndpoint } from '../../src/core/endpoint';
import { parseProcNetUdp } from '../../src/core/net/procNetUdp';

/** Everything open at one moment, keyed so two moments can be compared. */
export interface OpenResources {
  /** process.getActiveResourcesInfo(): the handles and requests keeping the event loop alive, counted by type. */
  readonly handles: ReadonlyMap<string, number>;
  /** /proc/self/fd: descriptor → what it is ("UDP socket 127.0.0.1:5000", a file's path, "pipe:[123]"). */
  readonly fds: ReadonlyMap<string, string>;
  /** This process's child processes (/proc/self/task/<tid>/children): pid → command line. */
  readonly children: ReadonlyMap<string, string>;
}

/**
 * Which resources count. The extension host is VS Code's process too: its own timers, files and pipes come and go
 * while a test runs, so there only UDP sockets and child processes are ours to answer for.
 */
export type LeakScope = 'process' | 'extension-host';

/**
 * Descriptors Node opens once for itself and keeps: /dev/null on the first child process spawned, the event loops'
 * epoll and eventfd of a new thread. A leaked child or worker still shows as a child process or a handle.
 */
const RUNTIME_FDS = /^(\/dev\/null|anon_inode:\[(eventfd|eventpoll)\])$/;

export function openResources(scope: LeakScope = 'process'): OpenResources {
  const udpSockets = udpSocketsByInode();
  const handles = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    if (scope === 'extension-host' && type !== 'UDPWrap') continue;
    handles.set(type, (handles.get(type) ?? 0) + 1);
  }
  const fds = new Map<string, string>();
  for (const fd of readDir('/proc/self/fd')) {
    const target = readLink(`/proc/self/fd/${fd}`);
    if (target === undefined) continue; // the directory listing's own descriptor, closed by now
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    const udp = socket ? udpSockets.get(socket[1]) : undefined;
    if (scope === 'extension-host' && udp === undefined) continue;
    if (RUNTIME_FDS.test(target)) continue;
    fds.set(fd, udp ? `UDP socket ${udp}` : target);
  }
  const children = new Map<string, string>();
  for (const tid of readDir('/proc/self/task')) {
    for (const pid of readText(`/proc/self/task/${tid}/children`).split(/\s+/).filter(Boolean)) {
      children.set(pid, readText(`/proc/${pid}/cmdline`).split('\0').filter(Boolean).join(' ') || '(exited)');
    }
  }
  return { handles, fds, children };
}

/** What `after` has that `before` had not, one line each; empty when nothing new is open. */
export function leaksBetween(before: OpenResources, after: OpenResources): string[] {
  const leaks: string[] = [];
  for (const [type, count] of after.handles) {
    const more = count - (before.handles.get(type) ?? 0);
    const hint = HANDLE_HINTS[type] ?? 'see process.getActiveResourcesInfo()';
    if (more > 0) leaks.push(`${more} more ${type} keeping the event loop alive (${hint})`);
  }
  for (const [fd, target] of after.fds) {
    if (before.fds.get(fd) !== target) leaks.push(`file descriptor ${fd}: ${target}`);
  }
  for (const [pid, command] of after.children) {
    if (!before.children.has(pid)) leaks.push(`child process ${pid}: ${command}`);
  }
  return leaks;
}

const HANDLE_HINTS: Record<string, string> = {
  UDPWrap: 'a dgram socket not closed',
  Timeout: 'a setTimeout/setInterval not cleared',
  Immediate: 'a setImmediate not run yet',
  TCPWrap: 'a TCP socket or server not closed',
  PipeWrap: 'a pipe, often a child process’s stdio',
  ProcessWrap: 'a child process not waited for',
  FSReqCallback: 'a file operation still running',
  FSReqPromise: 'a file operation still running',
  FSEventWrap: 'a file watcher not closed',
  StatWatcher: 'a fs.watchFile not unwatched',
  SignalWrap: 'a signal listener',
};

/**
 * Waits for what a file closed to finish closing (a socket's close completes on a later turn of the event loop), at
 * most `settleMs`, and returns what is still open that was not before.
 */
export async function leftOpen(before: OpenResources, scope: LeakScope, settleMs = 2000): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const leaks = leaksBetween(before, await openResourcesSoon(scope));
    if (leaks.length === 0 || Date.now() >= deadline) return leaks;
  }
}

/**
 * openResources() after a short wait, so that every snapshot is taken in the same state: after the synchronous part
 * of a test (mocha arms a test's timeout only once its function has returned) and outside any timer's callback.
 */
export async function openResourcesSoon(scope: LeakScope = 'process'): Promise<OpenResources> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return openResources(scope);
}

/**
 * Mocha root hooks that check each test file: after the file's last `after` hook, whatever is open that was not open
 * when the previous file finished fails that file, with the list. The next file starts from what is open then, so
 * one leak is reported once, by the file that made it.
 */
export function leakHooks(scope: LeakScope): Mocha.RootHookObject {
  let baseline: OpenResources | undefined;
  return {
    async beforeAll(this: Mocha.Context) {
      baseline = await openResourcesSoon(scope);
      const root = this.test?.parent;
      if (!root) return;
      // The last top-level suite of each file gets the check as its last `after all` hook.
      const lastSuiteOfFile = new Map<string, Mocha.Suite>();
      for (const suite of root.suites) lastSuiteOfFile.set(suite.file ?? '(unknown file)', suite);
      for (const [file, suite] of lastSuiteOfFile) {
        const name = file.replace(/^.*?\bout\/test\//, 'test/').replace(/\.js$/, '.ts');
        suite.afterAll(`leak check: ${name} closes what it opened`, async function () {
          this.timeout(10_000);
          const leaks = await leftOpen(baseline ?? (await openResourcesSoon(scope)), scope);
          baseline = await openResourcesSoon(scope);
          if (leaks.length > 0) {
            throw new Error(
              `${name} left open after its last test and hook (close these in the test or an after/afterEach hook):\n  ` +
                leaks.join('\n  '),
            );
          }
        });
      }
    },
  };
}

/** /proc/net/udp and udp6 by socket inode: "127.0.0.1:5000", "[::1]:5000". */
function udpSocketsByInode(): Map<string, string> {
  const sockets = new Map<string, string>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const socket of parseProcNetUdp(readText(file)) ?? []) sockets.set(String(socket.inode), formatEndpoint(socket));
  }
  return sockets;
}

function readDir(path: string): string[] {
  try {
    return fs.readdirSync(path);
  } catch {
    return []; // not Linux: only the handles are checked
  }
}

function readLink(path: string): string | undefined {
  try {
    return fs.readlinkSync(path);
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
