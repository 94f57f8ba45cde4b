// Mocha root hooks for the unit suite (.mocharc.json `require`): each test file fails when it leaves a UDP socket, a
// timer, a file descriptor or a child process open. See leaks.ts.
import { leakHooks } from './leaks';

export const mochaHooks = leakHooks('process');
