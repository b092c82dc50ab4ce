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
import os from 'node:os';
import path from 'node:path';

import { freePort, untilListening } from './ports.mjs';
import { REPO_ROOT } from './server.mjs';

export const NGINX_CONF = path.join(REPO_ROOT, 'deploy', 'nginx.conf');
/** Debian's nginx (in /usr/sbin, which a user's PATH may lack), unless CHAT_NGINX names one. */
const NGINX_BIN = process.env.CHAT_NGINX ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

/** Replaces `pattern` in `text`, failing loudly if the shipped file no longer has it. */
function replaceOrThrow(text, pattern, replacement) {
  if (!pattern.test(text)) throw new Error(`deploy/nginx.conf no longer matches ${pattern}`);
  return text.replace(pattern, replacement);
}

export async function startNginx(backendPorts) {
  const port = await freePort();
  let conf = readFileSync(NGINX_CONF, 'utf8');
  conf = replaceOrThrow(conf, /listen 127\.0\.0\.1:8080;/, `listen 127.0.0.1:${port};`);
  conf = replaceOrThrow(
    conf,
    /(upstream chat \{\n(?:.*\n)*?)((?:\s*server 127\.0\.0\.1:\d+[^\n]*\n)+)/,
    (_, head) => head + backendPorts.map((p) => `        server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;\n`).join(''),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-nginx-'));
  conf = replaceOrThrow(conf, /pid [^;]+;/, `pid ${path.join(dir, 'nginx.pid')};`);
  conf = conf.replace(/\/tmp\/nginx-chat-/g, path.join(dir, 'temp-'));
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const child = spawn(NGINX_BIN, ['-p', dir, '-c', file, '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    await untilListening(port, child, 'nginx');
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
