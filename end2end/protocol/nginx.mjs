// Runs Debian's nginx with the configuration the README ships (deploy/nginx.conf), in front
// of the given chat servers, on a free loopback port:
//
//   const proxy = await startNginx([server.port, other.port]);   // { url, port, stop() }
//
// The shipped file is used as it is but for what a test must own: its `listen` address, the
// `upstream` servers, and the pid and temporary paths (a folder of its own, removed by stop()).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { REPO_ROOT } from './server.mjs';

export const NGINX_CONF = path.join(REPO_ROOT, 'deploy', 'nginx.conf');
/** Debian's nginx (in /usr/sbin, which a user's PATH may lack), unless CHAT_NGINX names one. */
const NGINX_BIN = process.env.CHAT_NGINX ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

/** A port no one listens on now. */
async function freePort() {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Replaces `pattern` in `text`, failing loudly if the shipped file no longer has it. */
function replaceOrThrow(text, pattern, replacement) {
  if (!pattern.test(text)) throw new Error(`deploy/nginx.conf no longer matches ${pattern}`);
  return text.replace(pattern, replacement);
}

/** Resolves once something accepts connections on 127.0.0.1:`port`, or throws after 10 s. */
async function untilListening(port, child) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const connected = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    if (Date.now() > deadline) throw new Error(`nginx is not listening on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function startNginx(backendPorts) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-nginx-'));
  const port = await freePort();
  let conf = readFileSync(NGINX_CONF, 'utf8');
  conf = replaceOrThrow(conf, /listen 127\.0\.0\.1:8080;/, `listen 127.0.0.1:${port};`);
  conf = replaceOrThrow(
    conf,
    /(upstream chat \{\n(?:.*\n)*?)((?:\s*server 127\.0\.0\.1:\d+[^\n]*\n)+)/,
    (_, head) => head + backendPorts.map((p) => `        server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;\n`).join(''),
  );
  conf = replaceOrThrow(conf, /pid [^;]+;/, `pid ${path.join(dir, 'nginx.pid')};`);
  conf = conf.replace(/\/tmp\/nginx-chat-/g, path.join(dir, 'temp-'));
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const child = spawn(NGINX_BIN, ['-p', dir, '-c', file, '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    await untilListening(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
