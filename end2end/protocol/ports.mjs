// Free loopback ports, and waiting for a child process to listen on one.

import { once } from 'node:events';
import net from 'node:net';

/** A port no one listens on now. */
export async function freePort() {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; throws after 10 s. */
export async function untilListening(port, child, what) {
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const connected = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (performance.now() > deadline) throw new Error(`${what} is not listening on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
