// Shared helpers for the protocol suites: one server per test file, Socket.IO clients that
// record every event they receive, exact "who received what" assertions, and raw Engine.IO
// WebSocket connections for malformed traffic.

import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

import { startServer } from './server.mjs';

/** The two ways the main flows are run: straight WebSocket, and the default (polling, then upgrade). */
export const TRANSPORTS = [
  { label: 'websocket', options: { transports: ['websocket'] } },
  { label: 'polling then upgrade', options: {} },
];

/** How long to wait for events that must arrive. */
export const WAIT_MS = 3_000;
/** How long to keep listening to assert that nothing more arrives. */
export const QUIET_MS = 200;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** requestRejected carries a human-readable `message`; recorded events show any non-empty one as this. */
export const ANY_MESSAGE = '<non-empty message>';

/** The event a refused request gets, as recorded by Client. */
export const rejected = (event, reason) => ['requestRejected', { event, reason, message: ANY_MESSAGE }];

let nameCounter = 0;
/** A name (3..10 characters) that no other test of this process uses. */
export function uniqueName(prefix = 'u') {
  nameCounter += 1;
  const name = `${prefix}${nameCounter.toString(36).padStart(3, '0')}`;
  assert.ok(name.length >= 3 && name.length <= 10, `uniqueName produced ${name}`);
  return name;
}

/**
 * Starts one server for the current test file (before/after hooks at the top level).
 * Returns an object whose `server` property is set once it runs.
 */
export function useServer(options) {
  const ctx = { server: null, get url() { return ctx.server.url; } };
  before(async () => {
    ctx.server = await startServer(options);
  });
  after(async () => {
    if (ctx.server) await ctx.server.stop();
  });
  return ctx;
}

/** Waits until cond() is truthy, re-checking every 10 ms; the error names `describe` (a
 * string, or a function returning one). Times here and in the suites are read from
 * performance.now(), a monotonic clock: the machine's wall clock can step. */
export async function until(cond, timeoutMs, describe) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = cond();
    if (value) return value;
    if (performance.now() >= deadline) {
      const what = typeof describe === 'function' ? describe() : describe;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(10);
  }
}

/** What a recorded chat shows when its id or time is missing or its id did not increase. */
export const BAD_CHAT_ID = '<missing, or not above the previous chat id>';

/**
 * A chat as the protocol suites compare it: `id` (strictly increasing per receiver) and
 * `sentAt` are checked here, then dropped, so tests compare sender and message exactly.
 */
function normalizeChat(payload, lastId) {
  const { id, sentAt, ...rest } = payload;
  const valid = Number.isInteger(id) && id > lastId && Number.isInteger(sentAt) && sentAt > 0;
  return { payload: valid ? rest : { ...rest, id: BAD_CHAT_ID }, id: valid ? id : lastId };
}

function normalize(event, args) {
  if (['requestRejected', 'sessionEnded'].includes(event) && args.length >= 1 && args[0] && typeof args[0] === 'object') {
    const payload = { ...args[0] };
    if (typeof payload.message === 'string' && payload.message.trim() !== '') payload.message = ANY_MESSAGE;
    return [event, payload, ...args.slice(1)];
  }
  return [event, ...args];
}

/** The event a socket gets when its session cookie is not (or no longer) valid, as recorded by Client. */
export const sessionEnded = (reason) => ['sessionEnded', { reason, message: ANY_MESSAGE }];

/** An acknowledgement or HTTP error body with its human-readable `message` shown as ANY_MESSAGE. */
export function withAnyMessage(reply) {
  if (!reply || typeof reply !== 'object' || Array.isArray(reply)) return reply;
  const out = { ...reply };
  if (typeof out.message === 'string' && out.message.trim() !== '') out.message = ANY_MESSAGE;
  return out;
}

/**
 * A socket.io-client socket that records every event it receives as [event, ...args]
 * (requestRejected's and sessionEnded's message normalised to ANY_MESSAGE), in arrival order.
 * `raw` keeps them as received; chats keep their id and sentAt there.
 */
export class Client {
  constructor(url, label, options = {}) {
    this.label = label;
    this.events = [];
    this.raw = [];
    this.cursor = 0;
    this.disconnectReason = null;
    this.socket = io(url, {
      forceNew: true,
      reconnection: false,
      timeout: 5_000,
      ...options,
    });
    this.lastChatId = 0;
    this.socket.onAny((event, ...args) => {
      this.raw.push([event, ...args]);
      if (event === 'chat' && args[0] && typeof args[0] === 'object') {
        const { payload, id } = normalizeChat(args[0], this.lastChatId);
        this.lastChatId = id;
        this.events.push([event, payload, ...args.slice(1)]);
        return;
      }
      this.events.push(normalize(event, args));
    });
    this.socket.on('disconnect', (reason) => {
      this.disconnectReason = reason;
    });
  }

  /** Resolves once the socket is connected to the default namespace. */
  connected() {
    if (this.socket.connected) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        this.socket.off('connect_error', onError);
        resolve(this);
      };
      const onError = (error) => {
        this.socket.off('connect', onConnect);
        const context = error.context;
        const http = context && typeof context === 'object' && 'status' in context
          ? ` (HTTP ${context.status}: ${String(context.responseText ?? '').slice(0, 200)})`
          : '';
        reject(new Error(`${this.label}: connect_error: ${error.message}${http}`));
      };
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
    });
  }

  emit(event, ...args) {
    this.socket.emit(event, ...args);
    return this;
  }

  /** Emits with an acknowledgement and resolves with its payload (rejects after timeoutMs). */
  call(event, ...args) {
    return this.callWithin(WAIT_MS, event, ...args);
  }

  callWithin(timeoutMs, event, ...args) {
    return this.socket.timeout(timeoutMs).emitWithAck(event, ...args);
  }

  /** The chats received so far, as sent by the server (with id, sentAt, clientId). */
  rawChats() {
    return this.raw.filter(([event]) => event === 'chat').map(([, payload]) => payload);
  }

  /** Events received and not yet taken. */
  pending() {
    return this.events.slice(this.cursor);
  }

  /** Returns the events received since the last take() and forgets them. */
  take() {
    const out = this.events.slice(this.cursor);
    this.cursor = this.events.length;
    return out;
  }

  /** Waits for a not-yet-taken event matching `pred` ([event, ...args] → bool); returns it. */
  async waitFor(pred, timeoutMs = WAIT_MS) {
    const test = typeof pred === 'function' ? pred : ([event]) => event === pred;
    return until(
      () => this.pending().find(test),
      timeoutMs,
      () => `${this.label} to receive ${pred}; pending: ${JSON.stringify(this.pending()).slice(0, 500)}`,
    );
  }

  /** Waits until `n` not-yet-taken events have arrived. */
  async waitForCount(n, timeoutMs = WAIT_MS) {
    await until(
      () => this.pending().length >= n,
      timeoutMs,
      () => `${this.label} to receive ${n} events; pending: ${JSON.stringify(this.pending()).slice(0, 500)}`,
    );
  }

  async waitForDisconnect(timeoutMs = WAIT_MS) {
    await until(() => this.disconnectReason !== null, timeoutMs, () => `${this.label} to be disconnected`);
    return this.disconnectReason;
  }

  /** The transport in use now: 'websocket' or 'polling'. */
  transport() {
    return this.socket.io.engine?.transport?.name;
  }

  close() {
    this.socket.disconnect();
    this.socket.io.engine?.close();
  }
}

/**
 * Every client a test opens, closed after each test. After closing, waits until the server
 * shows nobody online, so that no test sees the departures of the one before.
 */
export class Clients {
  constructor(ctx, defaults = {}) {
    this.ctx = ctx;
    this.defaults = defaults;
    this.open = [];
    afterEach(async () => {
      await this.closeAll();
    });
  }

  /** Opens and connects a client. options are socket.io-client options (e.g. transports). */
  async connect(label, options = this.defaults) {
    const client = new Client(this.ctx.url, label, options);
    this.open.push(client);
    await client.connected();
    return client;
  }

  /** Connects several clients, in order. */
  async connectMany(labels, options = this.defaults) {
    const clients = [];
    for (const label of labels) clients.push(await this.connect(label, options));
    return clients;
  }

  async closeAll() {
    const open = this.open;
    this.open = [];
    for (const client of open) client.close();
    if (this.ctx.server) await waitLobbyEmpty(this.ctx.url);
  }
}

/**
 * Runs `fn(scene)` against a server of its own (own database), started for it and stopped
 * afterwards with every client it opened: tests using it share nothing (sessions, grace
 * periods, history), so they may run concurrently.
 *   test('...', () => withServer({ args: [...] }, async (scene) => { ... }));
 * scene: { server, url, connect(label, clientOptions), create(label, clientOptions) }.
 * @param {object} options startServer options
 */
export async function withServer(options, fn) {
  const scene = {
    server: await startServer(options),
    open: [],
    get url() {
      return scene.server.url;
    },
    /** Opens and connects a client (socket.io-client options, e.g. transports, extraHeaders). */
    async connect(label, clientOptions = {}) {
      const client = scene.create(label, clientOptions);
      await client.connected();
      return client;
    },
    /** A client that is not connected yet (e.g. to watch its first connection). */
    create(label, clientOptions = {}) {
      const client = new Client(scene.url, label, clientOptions);
      scene.open.push(client);
      return client;
    },
  };
  try {
    return await fn(scene);
  } finally {
    for (const client of scene.open) client.close();
    await scene.server.stop();
  }
}

/**
 * POST /api/session. body: an object (sent as JSON, or as a form when `form`) or a raw string.
 * Resolves with { status, json (null unless JSON), text, setCookies, cookie, location };
 * cookie is the `chat_session=<token>` pair of Set-Cookie, if any.
 */
export async function postSession(url, body, { form = false, headers = {} } = {}) {
  const contentType = form ? 'application/x-www-form-urlencoded' : 'application/json';
  let payload = body;
  if (typeof body !== 'string') payload = form ? new URLSearchParams(body).toString() : JSON.stringify(body);
  return post(new URL('/api/session', url), payload, { 'content-type': contentType, ...headers });
}

/** POST /api/logout with the session cookie (if any); same answer shape as postSession. */
export async function postLogout(url, cookie, { form = false, headers = {} } = {}) {
  const base = form ? { 'content-type': 'application/x-www-form-urlencoded' } : {};
  if (cookie) base.cookie = cookie;
  return post(new URL('/api/logout', url), form ? '' : undefined, { ...base, ...headers });
}

async function post(target, body, headers) {
  const response = await fetch(target, { method: 'POST', redirect: 'manual', headers, body });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  const setCookies = response.headers.getSetCookie();
  const session = setCookies.find((c) => c.startsWith('chat_session='));
  return {
    status: response.status,
    json,
    text,
    contentType: response.headers.get('content-type'),
    setCookies,
    setCookie: session ?? null,
    cookie: session ? session.split(';')[0] : null,
    location: response.headers.get('location'),
  };
}

/** Logs in over HTTP as `name` (JSON); returns the `chat_session=<token>` cookie. */
export async function createSession(url, name) {
  const answer = await postSession(url, { name });
  assert.equal(answer.status, 200, `POST /api/session ${name}: ${answer.status} ${answer.text}`);
  assert.ok(answer.cookie, `POST /api/session ${name} set no chat_session cookie: ${answer.setCookies}`);
  return answer.cookie;
}

/** socket.io-client options that send `cookie` with the handshake (and every polling request). */
export const withCookie = (cookie, options = {}) => ({ ...options, extraHeaders: { ...options.extraHeaders, cookie } });

/** Asks onlineUsers from a fresh WebSocket client. */
export async function onlineUsers(url) {
  const probe = new Client(url, 'probe', { transports: ['websocket'] });
  try {
    await probe.connected();
    probe.emit('onlineUsers');
    const [, names] = await probe.waitFor('onlineUsers');
    return names;
  } finally {
    probe.close();
  }
}

/** Waits until onlineUsers is [] (the server has processed every departure). */
export async function waitLobbyEmpty(url, timeoutMs = 5_000) {
  const deadline = performance.now() + timeoutMs;
  let names;
  for (;;) {
    names = await onlineUsers(url);
    if (Array.isArray(names) && names.length === 0) return;
    if (performance.now() >= deadline) {
      throw new Error(`users still online ${timeoutMs} ms after every client closed: ${JSON.stringify(names)}`);
    }
    await sleep(50);
  }
}

/**
 * Logs clients in one after the other ([client, name] pairs), waits until every client in
 * `everyone` has seen each userJoined, then forgets all the events this caused.
 */
export async function loginAll(everyone, pairs) {
  for (const [client, name] of pairs) {
    client.emit('login', name);
    await client.waitFor((e) => e[0] === 'welcome' && e[1] === name);
    for (const other of everyone) await other.waitFor((e) => e[0] === 'userJoined' && e[1] === name);
  }
  for (const client of everyone) client.take();
}

/**
 * Asserts exactly which events each client received: expected is a list of
 * [client, [[event, ...args], ...]]. Waits until each client has at least as many events as
 * expected (up to timeoutMs), then QUIET_MS more so that extra or duplicate events show up.
 * Consumes the events it checked.
 */
export async function expectEvents(expected, { timeoutMs = WAIT_MS, quietMs = QUIET_MS } = {}) {
  await Promise.all(expected.map(([client, events]) => client.waitForCount(events.length, timeoutMs).catch(() => {})));
  await sleep(quietMs);
  for (const [client, events] of expected) {
    assert.deepStrictEqual(client.take(), events, `events received by ${client.label}`);
  }
}

/** Asserts that none of the clients receives anything for QUIET_MS. */
export async function expectNothing(clients, quietMs = QUIET_MS) {
  await expectEvents(clients.map((c) => [c, []]), { quietMs });
}

/**
 * A raw Engine.IO v4 WebSocket connection (the `ws` package), for traffic socket.io-client
 * would never send. `frames` records what the server sent (strings for text frames).
 */
export class RawSocket {
  constructor(url, { answerPings = true } = {}) {
    const target = new URL('/socket.io/?EIO=4&transport=websocket', url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = new WebSocket(target);
    this.frames = [];
    this.closed = false;
    this.closeCode = null;
    this.error = null;
    this.ws.on('message', (data, isBinary) => {
      const frame = isBinary ? data : data.toString('utf8');
      this.frames.push(frame);
      if (answerPings && frame === '2') this.safeSend('3');
    });
    this.ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    this.ws.on('error', (error) => {
      this.error = error;
    });
  }

  /** Waits for the WebSocket to open and the Engine.IO handshake; returns the handshake object. */
  async open(timeoutMs = WAIT_MS) {
    const frame = await this.waitFrame((f) => typeof f === 'string' && f.startsWith('0'), timeoutMs);
    this.handshake = JSON.parse(frame.slice(1));
    return this.handshake;
  }

  /** open() then connects to the default namespace ("40"). */
  async connectNamespace(timeoutMs = WAIT_MS) {
    await this.open(timeoutMs);
    this.send('40');
    await this.waitFrame((f) => typeof f === 'string' && f.startsWith('40'), timeoutMs);
    return this;
  }

  send(data, options) {
    this.ws.send(data, options);
  }

  /** Sends if the socket is still open; returns whether it did. */
  safeSend(data, options) {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(data, options);
    return true;
  }

  /** Socket.IO events received, as [event, ...args]. */
  events() {
    return this.frames
      .filter((f) => typeof f === 'string' && f.startsWith('42'))
      .map((f) => JSON.parse(f.slice(2)));
  }

  async waitFrame(pred, timeoutMs = WAIT_MS) {
    return until(
      () => this.frames.find(pred),
      timeoutMs,
      () => `a raw frame; got ${JSON.stringify(this.frames.map(String)).slice(0, 300)}; closed=${this.closed} error=${this.error?.message}`,
    );
  }

  async waitClosed(timeoutMs = WAIT_MS) {
    await until(() => this.closed, timeoutMs, () => 'the raw WebSocket to close');
    return this.closeCode;
  }

  close() {
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.once('open', () => this.ws.close());
      this.ws.once('error', () => {});
    } else if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.close();
    }
  }

  terminate() {
    this.ws.terminate();
  }
}

/**
 * Asserts that the server still serves: a fresh WebSocket client logs in with `name`, chats,
 * and gets its own chat back (as do the `observers`, which must still be connected).
 */
export async function assertServerServes(ctx, name, observers = []) {
  assert.equal(ctx.server.exitStatus(), null, `the server process exited:\n${ctx.server.output()}`);
  const fresh = new Client(ctx.url, `fresh ${name}`, { transports: ['websocket'] });
  try {
    await fresh.connected();
    fresh.emit('login', name);
    await fresh.waitFor((e) => e[0] === 'welcome' && e[1] === name);
    const text = `still alive ${name}`;
    fresh.emit('chat', text);
    const expected = ['chat', { sender: name, message: text }];
    await fresh.waitFor((e) => e[0] === 'chat' && e[1]?.message === text);
    for (const observer of observers) {
      assert.ok(observer.socket.connected, `${observer.label} was disconnected`);
      await observer.waitFor((e) => e[0] === 'chat' && e[1]?.message === text);
    }
    assert.deepStrictEqual(
      fresh.take().filter((e) => e[0] === 'chat'),
      [expected],
    );
  } finally {
    fresh.close();
  }
}
