// A redis-server of the test's own (Debian's package): on a free loopback port, without
// persistence, killed by stop().
//
//   const redis = await startRedis();   // { url, port, stop() }

import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { freePort, untilListening } from './ports.mjs';

export async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = once(child, 'exit');
  await untilListening(port, child, 'redis-server');
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
