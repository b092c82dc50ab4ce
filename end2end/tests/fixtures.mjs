// Fixtures shared by the browser specs:
//   server (automatic): a fresh server with its own empty database (freshDatabase(): SQLite
//     in a temporary folder, or PostgreSQL under scripts/with-postgres.sh) for each test, so every test starts alone, with no history, and may use plain
//     names (Ann, Bob, ...). Session users keep their name for `sessionGraceMs` (default
//     2 s) after their last connection closes. `server.crash()` kills it hard (SIGKILL),
//     `server.start()` starts a new process on the same port and database.
//     Options (test.use): sessionGraceMs, serverArgs (extra command-line arguments).
//   openUser(): a fresh browser context + page on the app, hydrated (optionally logged in,
//     optionally with its Socket.IO WebSocket routed through Playwright, see routeSocket);
//     closed after the test.
//   behindNginx: nginx with deploy/nginx.conf in front of the server; the test's pages and
//     bots then go through it (request it before openUser and bot).
//   bot(name): a socket.io-client user logged in with `login` over WebSocket (no session:
//     it leaves at once when it disconnects), for driving the lobby from outside the
//     browser; closed after the test.

import { once } from 'node:events';

import { test as base, expect } from '@playwright/test';
import { io } from 'socket.io-client';

import { startNginx } from '../protocol/nginx.mjs';
import { freshDatabase, startServer } from '../protocol/server.mjs';

/** How long a session user keeps their name after their last connection closes (default). */
export const SESSION_GRACE_MS = 2_000;

/** How long the wasm app may take to load, hydrate and connect. */
export const HYDRATION_TIMEOUT_MS = Number(process.env.CHAT_HYDRATION_TIMEOUT_MS || 30_000);

/** How long the app may take to reconnect by itself (its backoff reaches 10 s). */
export const RECONNECT_TIMEOUT_MS = 20_000;

/** The server of the running test. */
let current = null;

export function baseURL() {
  if (!current) throw new Error('no server: use the fixtures of this file (`test` from fixtures.mjs)');
  return proxy?.url ?? current.url;
}

/** The nginx in front of the running test's server, when it asked for one (`behindNginx`). */
let proxy = null;

/** The server of the running test (to crash and restart it). */
export function currentServer() {
  return current;
}

/**
 * One test's server: a process of the binary with its own database file, which can be
 * crashed and started again on the same port and database.
 */
class TestServer {
  constructor(args) {
    this.database = freshDatabase();
    this.args = [...this.database.args, ...args];
    this.process = null;
    this.fixedPort = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get port() {
    return this.fixedPort;
  }

  get running() {
    const child = this.process?.child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  /** Starts a process: on a free port the first time, then on the same port again. */
  async start() {
    if (this.running) throw new Error('the server is already running');
    this.process = await startServer({ args: this.args, port: this.fixedPort });
    this.fixedPort = Number(new URL(this.process.url).port);
    return this;
  }

  /** Kills the process without warning (SIGKILL), like a crash; resolves once it is gone. */
  async crash() {
    const child = this.process?.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** A crash, then a new process on the same port and database. */
  async restart() {
    await this.crash();
    return this.start();
  }

  /** What the server printed last (for failure messages). */
  output() {
    return this.process?.output() ?? '';
  }

  async stop() {
    try {
      if (this.running) await this.process.stop();
    } finally {
      this.database.cleanUp();
    }
  }
}

/** Loads the app in `page` and waits until it has hydrated (body[data-hydrated=true]). */
export async function openApp(page) {
  const problems = [];
  const onConsole = (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  };
  const onPageError = (error) => problems.push(`page error: ${error.message}`);
  const onRequestFailed = (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  const onResponse = (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  };
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  page.on('requestfailed', onRequestFailed);
  page.on('response', onResponse);
  try {
    await page.goto(baseURL());
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: HYDRATION_TIMEOUT_MS });
  } catch (error) {
    error.message += `\n\nThe app did not hydrate. What the page reported:\n${problems.join('\n') || '(nothing)'}`;
    throw error;
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
    page.off('requestfailed', onRequestFailed);
    page.off('response', onResponse);
  }
}

/** Reloads the page and waits until the app has hydrated again. */
export async function reloadApp(page) {
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: HYDRATION_TIMEOUT_MS });
}

/**
 * Waits until the page's socket has been welcomed as `name` since the page loaded: its
 * welcome line is shown (once), the online list and the catch-up are on their way.
 */
export async function waitWelcomed(page, name) {
  await expect(serverLines(page).filter({ hasText: `Welcome to the chat, ${name}!` })).toHaveCount(1);
}

/** Logs in through the login form; waits for the lobby and the welcome. submit: 'click' or 'enter'. */
export async function login(page, name, { submit = 'click' } = {}) {
  const input = page.getByTestId('name-input');
  await input.fill(name);
  if (submit === 'enter') await input.press('Enter');
  else await page.getByTestId('login-button').click();
  await expect(page.getByTestId('message-input')).toBeVisible();
  await expect(page.getByTestId('login-form')).toHaveCount(0);
  await expect(page.getByTestId('me')).toHaveText(name.trim());
  await waitWelcomed(page, name.trim());
}

/** Sends a chat message through the lobby form. submit: 'click' or 'enter'. */
export async function send(page, text, { submit = 'click' } = {}) {
  const input = page.getByTestId('message-input');
  await input.fill(text);
  if (submit === 'enter') await input.press('Enter');
  else await page.getByTestId('send-button').click();
}

/** Texts of the online-user entries, sorted. */
export async function userNames(page) {
  const texts = await page.getByTestId('user').allTextContents();
  return texts.map((t) => t.trim()).sort();
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The li.notice whose text is exactly `text`. */
export function notice(page, text) {
  return page
    .getByTestId('messages')
    .locator('li.notice')
    .filter({ hasText: new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`) });
}

/** Every join/leave notice (li.notice) of the message list. */
export function notices(page) {
  return page.getByTestId('messages').locator('li.notice');
}

/** Server lines (li.server: the welcome) of the message list. */
export function serverLines(page) {
  return page.getByTestId('messages').locator('li.server');
}

/** Chat entries (li.message) of the message list. */
export function messages(page) {
  return page.getByTestId('messages').locator('li.message');
}

/** The texts of the chat entries, in the order shown. */
export function texts(page) {
  return messages(page).locator('span.text');
}

/** Makes the page believe it is hidden (or visible again), as when switching tabs. */
export async function setHidden(page, hidden) {
  await page.evaluate((isHidden) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => isHidden });
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (isHidden ? 'hidden' : 'visible'),
    });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/** A Socket.IO event frame (`42<ack>[name, payload]`) decoded, or null. */
export function decodeEvent(frame) {
  if (typeof frame !== 'string') return null;
  const match = /^42(\d*)(\[[\s\S]*\])$/.exec(frame);
  if (!match) return null;
  try {
    const [event, payload] = JSON.parse(match[2]);
    return { ack: match[1], event, payload };
  } catch {
    return null;
  }
}

/** The frame for a decoded event (see decodeEvent). */
export function encodeEvent({ ack, event, payload }) {
  return `42${ack}${JSON.stringify([event, payload])}`;
}

/**
 * Routes the page's Socket.IO WebSocket through Playwright; call before the page loads.
 * - `link.cut()` drops the live connections; while `link.down` is true, new ones are refused.
 * - `link.sent`: every frame the page sent, in order (all connections).
 * - `link.outgoing`: when set, a function (frame) => frame | null applied to every frame the
 *   page sends: return it (or another frame) to forward, null to hold it back (it goes to
 *   `link.held`; `link.release()` forwards the held frames).
 */
export async function routeSocket(page) {
  const link = { down: false, live: [], sent: [], held: [], outgoing: null };
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (link.down) {
      ws.close({ code: 1011, reason: 'test: server unreachable' });
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((frame) => {
      link.sent.push(frame);
      const forward = link.outgoing ? link.outgoing(frame) : frame;
      if (forward === null) link.held.push({ server, frame });
      else server.send(forward);
    });
    link.live.push(ws);
  });
  link.cut = async () => {
    for (const ws of link.live.splice(0)) await ws.close({ code: 1011, reason: 'test: connection lost' });
  };
  link.release = () => {
    for (const { server, frame } of link.held.splice(0)) server.send(frame);
  };
  /** The events the page sent (decoded), e.g. to check it never sent `login`. */
  link.sentEvents = () => link.sent.map(decodeEvent).filter(Boolean);
  /**
   * How many times the page has been welcomed so far: after each `welcome` it asks for the
   * catch-up (`history` with `after`), once.
   */
  link.welcomes = () => link.sentEvents().filter((e) => e.event === 'history' && e.payload?.after !== undefined).length;
  /** Waits until the page has been welcomed more than `count` times. */
  link.waitForWelcome = async (count) => {
    await expect.poll(() => link.welcomes(), { timeout: RECONNECT_TIMEOUT_MS }).toBeGreaterThan(count);
  };
  return link;
}

/**
 * Takes the page's routed socket down (see routeSocket) and keeps it down until
 * `link.down = false`; resolves once the page shows "reconnecting…".
 */
export async function takeOffline(page, link) {
  link.down = true;
  await link.cut();
  await expect(page.getByTestId('connection')).toHaveText('reconnecting…');
}

/** Connects a socket.io-client over WebSocket; resolves once connected. */
function connectSocket() {
  const socket = io(baseURL(), { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 5_000 });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => reject(error));
  });
}

/** A scripted user outside the browser. */
export class Bot {
  constructor(socket, name) {
    this.socket = socket;
    this.name = name;
    this.typingTimer = null;
    /** Every chat this bot has received, in order. */
    this.chats = [];
    socket.on('chat', (message) => this.chats.push(message));
  }

  /** Sends a chat; like a real client, this ends its typing (the server sends userStoppedTyping). */
  chat(text) {
    clearInterval(this.typingTimer);
    this.typingTimer = null;
    this.socket.emit('chat', text);
  }

  /** Sends a chat and resolves once the server has stored it (its acknowledgement). */
  async chatStored(text, clientId) {
    clearInterval(this.typingTimer);
    this.typingTimer = null;
    const reply = await this.socket.timeout(5_000).emitWithAck('chat', { text, clientId });
    if (!reply?.ok) throw new Error(`bot ${this.name}: chat refused: ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Starts typing and keeps renewing the lease every second, as a client does. */
  startTyping() {
    this.socket.emit('typing');
    clearInterval(this.typingTimer);
    this.typingTimer = setInterval(() => this.socket.emit('typing'), 1_000);
  }

  stopTyping() {
    clearInterval(this.typingTimer);
    this.typingTimer = null;
    this.socket.emit('stopTyping');
  }

  close() {
    clearInterval(this.typingTimer);
    this.socket.disconnect();
  }
}

export const test = base.extend({
  sessionGraceMs: [SESSION_GRACE_MS, { option: true }],
  serverArgs: [[], { option: true }],

  server: [
    async ({ sessionGraceMs, serverArgs }, use) => {
      const server = new TestServer(['--session-grace-ms', String(sessionGraceMs), ...serverArgs]);
      current = server;
      try {
        await server.start();
        await use(server);
      } finally {
        current = null;
        await server.stop();
      }
    },
    { auto: true },
  ],

  // nginx with the shipped configuration (deploy/nginx.conf) in front of the test's server:
  // pages, bots and sockets of the test go through it.
  behindNginx: async ({ server }, use) => {
    proxy = await startNginx([server.port]);
    try {
      await use(proxy);
    } finally {
      const running = proxy;
      proxy = null;
      await running.stop();
    }
  },

  openUser: async ({ browser }, use) => {
    const contexts = [];
    await use(async ({ name, submit, contextOptions, route = false } = {}) => {
      const context = await browser.newContext(contextOptions);
      contexts.push(context);
      const page = await context.newPage();
      const link = route ? await routeSocket(page) : null;
      await openApp(page);
      if (name !== undefined) await login(page, name, { submit });
      return { context, page, name, link };
    });
    for (const context of contexts) await context.close().catch(() => {});
  },

  bot: async ({}, use) => {
    const bots = [];
    await use(async (name) => {
      const socket = await connectSocket();
      const bot = new Bot(socket, name);
      bots.push(bot);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`bot ${name}: no welcome`)), 5_000);
        socket.once('welcome', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('loginNameExists', () => reject(new Error(`bot ${name}: name taken`)));
        socket.once('loginNameBad', () => reject(new Error(`bot ${name}: bad name`)));
        socket.emit('login', name);
      });
      return bot;
    });
    for (const bot of bots) bot.close();
  },
});

export { expect };
