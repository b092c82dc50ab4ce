// Starts the real chat server binary for a test run and stops it afterwards.
//
//   const server = await startServer();   // { url, port, child, output(), stop(), restart() }
//   ...
//   await server.restart();               // crash (SIGKILL) and start again: same port, same database
//   await server.stop();
//
// Each server gets a fresh database unless extra args name a `--database`: a SQLite file in a
// temporary folder (removed by stop()), or, when CHAT_TEST_POSTGRES names a PostgreSQL server
// (scripts/with-postgres.sh sets it), a database of its own there (see freshDatabase()).
// The binary comes from the environment variable CHAT_SERVER_BIN (an absolute path, or a path
// relative to the current directory or to the repository root, e.g. target/debug/server; unset:
// the newer of target/release/server and target/debug/server, as `cargo leptos end-to-end` builds). It is
// started as `BIN --port 0 --address 127.0.0.1 [extraArgs]` in the binary's own folder (a
// release binary needs nothing beside it), and is ready once it prints `listening on http://...` on stdout or stderr.
// Set CHAT_SERVER_LOG=1 to copy the server's output to this process's stderr.
//
// The rate limits (per user and per address) are off unless `defaultLimits` is set (the
// suites send faster, and connect more often from one address, than people do); the
// tests of the limits turn them on, or set their own with flags.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const READY = /listening on (http:\/\/\S+)/;

/** Environment that turns the rate limits (per user and per address) off; flags still win over it. */
export const NO_RATE_LIMITS = {
  CHAT_MESSAGE_RATE: '0',
  CHAT_TYPING_RATE: '0',
  CHAT_READ_RATE: '0',
  CHAT_JOIN_RATE: '0',
  CHAT_LOGIN_RATE: '0',
  CHAT_CONNECTION_RATE: '0',
  CHAT_CONNECTIONS_PER_ADDRESS: '0',
};

/** The server binary named by CHAT_SERVER_BIN, as an absolute path; throws a clear error if unusable. */
export function serverBinary() {
  const configured = process.env.CHAT_SERVER_BIN ?? newestBuild();
  if (!configured) {
    throw new Error(
      'CHAT_SERVER_BIN is not set and no server is built: set it to the chat server binary, e.g. ' +
        'CHAT_SERVER_BIN=target/debug/server (relative to the repository root) or an absolute path',
    );
  }
  const candidates = path.isAbsolute(configured)
    ? [configured]
    : [path.resolve(process.cwd(), configured), path.resolve(REPO_ROOT, configured)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(`CHAT_SERVER_BIN=${configured}: no such file (looked at ${candidates.join(', ')})`);
  }
  return found;
}

/** The server binary built last (`cargo leptos end-to-end` builds one, then runs the suite). */
function newestBuild() {
  const built = ['target/release/server', 'target/debug/server']
    .map((relative) => path.resolve(REPO_ROOT, relative))
    .filter((candidate) => existsSync(candidate))
    .map((candidate) => ({ candidate, modified: statSync(candidate).mtimeMs }))
    .sort((a, b) => b.modified - a.modified);
  return built[0]?.candidate;
}

let databasesMade = 0;

/**
 * A fresh, empty database: `{ args, cleanUp }`, the server arguments that name it and what
 * removes it. In PostgreSQL when CHAT_TEST_POSTGRES is set (a URL without a database, e.g.
 * `postgres://` inside pg_virtualenv, whose PG* variables `createdb` reads too); else a
 * SQLite file in a temporary folder.
 */
export function freshDatabase() {
  const base = process.env.CHAT_TEST_POSTGRES;
  if (base) {
    const name = `e2e_${process.pid}_${databasesMade++}`;
    execFileSync('createdb', [name]);
    return { args: ['--database-url', `${base}/${name}`], cleanUp: () => {} };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-db-'));
  return {
    args: ['--database', path.join(dir, 'chat.db')],
    cleanUp: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Spawns the server and resolves once it listens. Unless `args` name a `--database`, the
 * server gets a fresh database (freshDatabase()), removed when it stops.
 * @param {{ args?: string[], env?: Record<string,string>, readyTimeoutMs?: number, port?: number, defaultLimits?: boolean }} [options]
 *   args: extra command-line arguments after `--port <port> --address 127.0.0.1`.
 *   port: the port to listen on (default 0: any free one).
 *   defaultLimits: keep the server's default rate limits (otherwise they are off).
 */
export async function startServer({ args = [], env = {}, readyTimeoutMs = 30_000, port = 0, defaultLimits = false } = {}) {
  if (!defaultLimits) env = { ...NO_RATE_LIMITS, ...env };
  let cleanUp = () => {};
  if (!args.includes('--database') && !args.includes('--database-url')) {
    const database = freshDatabase();
    args = [...args, ...database.args];
    cleanUp = database.cleanUp;
  }
  let current = await spawnServer({ args, env, readyTimeoutMs, port });
  const server = {
    get url() {
      return current.url;
    },
    get port() {
      return current.port;
    },
    get child() {
      return current.child;
    },
    output: () => current.output(),
    exitStatus: () => current.exitStatus(),
    async stop(options) {
      const status = await current.stop(options);
      cleanUp();
      return status;
    },
    /**
     * Stops the process (SIGKILL, like a crash, unless `hard` is false) and starts a new
     * one on the same port and database.
     */
    async restart({ hard = true } = {}) {
      if (hard) {
        current.child.kill('SIGKILL');
        await current.exited;
      } else {
        await current.stop();
      }
      current = await spawnServer({ args, env, readyTimeoutMs, port: current.port });
      return server;
    },
  };
  return server;
}

async function spawnServer({ args, env, readyTimeoutMs, port }) {
  const bin = serverBinary();
  const argv = ['--port', String(port), '--address', '127.0.0.1', ...args];
  const child = spawn(bin, argv, {
    cwd: path.dirname(bin),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const echo = process.env.CHAT_SERVER_LOG === '1';
  const lines = [];
  const MAX_LINES = 200;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let exitStatus = null;
  exited.then((status) => {
    exitStatus = status;
  });

  const url = await new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const describe = () =>
      `${bin} ${argv.join(' ')}\n--- server output (last ${MAX_LINES} lines) ---\n${lines.join('\n')}`;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(reject, new Error(`chat server did not print "listening on http://..." within ${readyTimeoutMs} ms: ${describe()}`));
    }, readyTimeoutMs);
    const onLine = (line) => {
      lines.push(line);
      if (lines.length > MAX_LINES) lines.shift();
      if (echo) process.stderr.write(`[server] ${line}\n`);
      const match = READY.exec(stripAnsi(line));
      if (match) settle(resolve, match[1].replace(/[.,;)\]]+$/, ''));
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        buffered += chunk;
        let newline;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          onLine(buffered.slice(0, newline).replace(/\r$/, ''));
          buffered = buffered.slice(newline + 1);
        }
      });
      stream.on('end', () => {
        if (buffered) onLine(buffered);
        buffered = '';
      });
    }
    child.once('error', (error) => settle(reject, new Error(`could not start ${bin}: ${error.message}`)));
    exited.then(({ code, signal }) =>
      settle(reject, new Error(`chat server exited before listening (code ${code}, signal ${signal}): ${describe()}`)),
    );
  });

  return {
    url,
    port: Number(new URL(url).port),
    child,
    /** Resolves with { code, signal } once the process has exited. */
    exited,
    /** The last lines the server printed. */
    output: () => lines.join('\n'),
    /** null while it runs, else { code, signal }. */
    exitStatus: () => exitStatus,
    /** Sends SIGTERM and waits for the process to exit (SIGKILL after killAfterMs). */
    async stop({ killAfterMs = 10_000 } = {}) {
      if (exitStatus) return exitStatus;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
