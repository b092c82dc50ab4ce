// Helpers for the rooms-protocol suites (rooms, direct, roomtyping, presence, roomhistory):
// rooms-family users, expected payloads of the guide's events, and "who received what"
// assertions that check every `time` (ISO-8601 UTC with milliseconds) and every error `msg`
// and then compare the rest exactly. Built on helpers.mjs (Client, withServer, ...).

import assert from 'node:assert/strict';

import {
  ANY_MESSAGE, QUIET_MS, TRANSPORTS, WAIT_MS, createSession, sleep, until, withCookie, withServer,
} from './helpers.mjs';

export { ANY_MESSAGE };

/** socket.io-client options of a socket that speaks the rooms protocol from the start. */
export const rooms = (options = TRANSPORTS[0].options) => ({ ...options, auth: { protocol: 'rooms' } });

/** What a valid `time` is shown as once checked. */
export const TIME = '<time>';
/** ISO-8601 in UTC with milliseconds, as docs/protocol.md shows it: 2026-12-01T11:43:35.123Z. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A time is valid when it has the documented shape, parses, and is within an hour of now. */
export function checkTime(value) {
  if (typeof value === 'string' && ISO_TIME.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms) && Math.abs(ms - Date.now()) < 3_600_000) return TIME;
  }
  return `<bad time: ${JSON.stringify(value)}>`;
}

/** Deep copy with every `time` key checked and replaced by TIME. */
function normalizeTimes(value) {
  if (Array.isArray(value)) return value.map(normalizeTimes);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [key, inner] of Object.entries(value)) out[key] = key === 'time' ? checkTime(inner) : normalizeTimes(inner);
    return out;
  }
  return value;
}

/** A recorded event as the rooms suites compare it: times checked, `error.msg` shown as ANY_MESSAGE. */
export function normalizeEvent([event, ...args]) {
  const out = args.map(normalizeTimes);
  if (event === 'error' && out[0] && typeof out[0] === 'object' && !Array.isArray(out[0])) {
    if (typeof out[0].msg === 'string' && out[0].msg.trim() !== '') out[0] = { ...out[0], msg: ANY_MESSAGE };
  }
  return [event, ...out];
}

/** An acknowledgement as compared: times checked, a refusal's `message` shown as ANY_MESSAGE. */
export function ack(reply) {
  const out = normalizeTimes(reply);
  if (out && typeof out === 'object' && out.ok === false && typeof out.message === 'string' && out.message.trim() !== '') {
    out.message = ANY_MESSAGE;
  }
  return out;
}

/** A refusal in an acknowledgement. */
export const refusedAck = (reason) => ({ ok: false, reason, message: ANY_MESSAGE });
/** A refusal without an acknowledgement: the `error` event. */
export const errorEvent = (event, reason) => ['error', { msg: ANY_MESSAGE, reason, event }];

const sortKey = (e) => JSON.stringify(e);

/**
 * Asserts exactly what each client received: expected is a list of [client, events] (events
 * as [event, ...args], times as TIME). Waits until each client has at least as many
 * (non-ignored) events, then QUIET_MS more. Consumes everything each client received.
 * options: ordered (default true; false compares as multisets), ignore (event names left
 * out of the comparison), timeoutMs, quietMs.
 */
export async function expectRooms(expected, { ordered = true, ignore = [], timeoutMs = WAIT_MS, quietMs = QUIET_MS } = {}) {
  const keep = ([event]) => !ignore.includes(event);
  await Promise.all(expected.map(([client, events]) => until(
    () => client.pending().filter(keep).length >= events.length,
    timeoutMs,
    () => `${client.label} to receive ${events.length} events`,
  ).catch(() => {})));
  await sleep(quietMs);
  for (const [client, events] of expected) {
    let got = client.take().filter(keep).map(normalizeEvent);
    let want = events;
    if (!ordered) {
      got = [...got].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
      want = [...events].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    }
    assert.deepStrictEqual(got, want, `events received by ${client.label}`);
  }
}

/** Asserts that none of the clients receives anything (of the not-ignored events) for quietMs. */
export async function expectQuiet(clients, { quietMs = QUIET_MS, ignore = [] } = {}) {
  await expectRooms(clients.map((c) => [c, []]), { quietMs, ignore });
}

/** Waits until nothing new arrives at any of the clients for QUIET_MS, then forgets their events. */
export async function settle(clients, quietMs = QUIET_MS) {
  let counts = clients.map((c) => c.events.length);
  for (;;) {
    await sleep(quietMs);
    const now = clients.map((c) => c.events.length);
    if (now.every((n, i) => n === counts[i])) break;
    counts = now;
  }
  for (const client of clients) client.take();
}

/** Waits for a not-yet-taken event `name` whose (normalized) first argument matches `fields`. */
export function waitEvent(client, name, fields = {}, timeoutMs = WAIT_MS) {
  return client.waitFor(([event, payload]) => event === name && payload && typeof payload === 'object'
    && Object.entries(fields).every(([k, v]) => JSON.stringify(payload[k]) === JSON.stringify(v)), timeoutMs);
}

// ---------------------------------------------------------------------------------------
// Expected events.

/** A `receive_message` as compared. */
export const receive = (id, user, room, message, clientId) => ['receive_message', {
  id, username: user.name, message, time: TIME, room, userId: user.userId, ...(clientId === undefined ? {} : { clientId }),
}];

/** A `private_message` as compared (isSelf only for the sender's copies). */
export const privateMessage = (id, from, to, message, { clientId, isSelf = false } = {}) => ['private_message', {
  id, from: from.name, to: to.name, message, time: TIME, userId: from.userId,
  ...(clientId === undefined ? {} : { clientId }), ...(isSelf ? { isSelf: true } : {}),
}];

/** A lobby `chat` as recorded by Client (id and sentAt checked, then dropped). */
export const lobbyChat = (sender, message, clientId) => ['chat', { sender, message, ...(clientId === undefined ? {} : { clientId }) }];

export const userJoined = (name, room, reason) => ['user_joined', { username: name, room, time: TIME, ...(reason ? { reason } : {}) }];
export const userLeft = (name, room, reason) => ['user_left', { username: name, room, time: TIME, reason }];
export const roomUsers = (room, names) => ['room_users', names, { room }];
export const roomJoined = (user, room) => ['room_joined', { room, username: user.name, userId: user.userId }];
export const presenceChanged = (name, status) => ['presence_changed', { username: name, status }];
export const presenceUpdate = (list) => ['presence_update', list.map(([username, status]) => ({ username, status }))];
export const roomTyping = (name, room, isTyping) => ['user_typing', { username: name, isTyping, room }];
export const dmTyping = (name, isTyping) => ['user_typing', { username: name, isTyping, with: name }];

/** The acknowledgement of a stored send_message / private_message. */
export const delivered = (id, duplicate = false) => ({ ok: true, status: 'delivered', messageId: id, id, time: TIME, duplicate });

/** A history page as compared. */
export const page = (messages, hasMore = false, resync = false) => ({ ok: true, messages, hasMore, resync });

/** The payload (second element) of expected events, e.g. for history pages. */
export const payloads = (events) => events.map(([, payload]) => payload);

// ---------------------------------------------------------------------------------------
// Scenes.

/** Runs fn(scene) against a server of its own with the given extra arguments. */
export const runWith = (args) => (fn) => withServer({ args }, fn);

/**
 * A rooms-family socket logged in with `register` (acknowledged), member of `rooms` too.
 * Returns the Client with `.name` and `.userId`. Nothing is consumed: call settle() after.
 */
export async function registerUser(scene, label, name, { options = TRANSPORTS[0].options, joins = [] } = {}) {
  const client = await scene.connect(label, rooms(options));
  const reply = await client.call('register', name);
  assert.equal(reply?.ok, true, `register ${name}: ${JSON.stringify(reply)}`);
  assert.equal(reply.username, name);
  assert.ok(Number.isInteger(reply.userId) && reply.userId > 0, `userId ${reply.userId}`);
  client.name = name;
  client.userId = reply.userId;
  for (const room of joins) {
    const joined = await client.call('join_room', { room });
    assert.equal(joined?.ok, true, `join_room ${room}: ${JSON.stringify(joined)}`);
  }
  return client;
}

/**
 * A session (POST /api/session) and its first rooms-family tab; more tabs with
 * sessionTab(scene, label, user). The tab has `.name`, `.userId` (from a join_room of
 * general, which it is a member of anyway) and `.cookie`.
 */
export async function sessionUser(scene, label, name, { options = TRANSPORTS[0].options, joins = [] } = {}) {
  const cookie = await createSession(scene.url, name);
  return sessionTab(scene, label, { name, cookie }, { options, joins });
}

export async function sessionTab(scene, label, { name, cookie }, { options = TRANSPORTS[0].options, joins = [], family = 'rooms' } = {}) {
  const client = await scene.connect(label, family === 'rooms' ? rooms(withCookie(cookie, options)) : withCookie(cookie, options));
  await client.waitFor((e) => e[0] === 'welcome' && e[1] === name);
  client.name = name;
  client.cookie = cookie;
  if (family === 'rooms') {
    const reply = await client.call('join_room', { room: 'general' });
    assert.equal(reply?.ok, true, `join_room general for ${name}: ${JSON.stringify(reply)}`);
    client.userId = reply.userId;
  }
  for (const room of joins) {
    const joined = await client.call('join_room', { room });
    assert.equal(joined?.ok, true, `join_room ${room}: ${JSON.stringify(joined)}`);
  }
  return client;
}

/** A lobby-family socket logged in with `login`. */
export async function lobbyUser(scene, label, name, options = TRANSPORTS[0].options) {
  const client = await scene.connect(label, options);
  client.emit('login', name);
  await client.waitFor((e) => e[0] === 'welcome' && e[1] === name);
  client.name = name;
  return client;
}

/** Waits until each observer has seen presence_changed {name, status}. */
export async function seenPresence(observers, name, status, timeoutMs = WAIT_MS) {
  for (const o of observers) await waitEvent(o, 'presence_changed', { username: name, status }, timeoutMs);
}

/** The raw receive_message / private_message payloads a client has received so far. */
export const rawOf = (client, event) => client.raw.filter(([e]) => e === event).map(([, p]) => p);

/** A not-logged-in socket of either family. */
export async function anonymous(scene, label, { family = 'rooms', options = TRANSPORTS[0].options } = {}) {
  return scene.connect(label, family === 'rooms' ? rooms(options) : options);
}

/**
 * Sends refused requests and asserts their refusals: `cases` are [client, payload, reason].
 * With `withAck`, each is asked with an acknowledgement and the refusals are compared all at
 * once (every mismatch shows), then nobody may receive anything; without, all are emitted
 * and each client must receive exactly its `error` events, in order, and nobody else anything.
 */
export async function checkRefusals(event, cases, everyone, withAck) {
  if (withAck) {
    const got = [];
    const want = [];
    for (const [client, payload, reason] of cases) {
      const key = `${client.label}: ${JSON.stringify(payload)?.slice(0, 80)}`;
      got.push([key, ack(await client.call(event, payload))]);
      want.push([key, refusedAck(reason)]);
    }
    assert.deepStrictEqual(got, want);
    await expectQuiet(everyone);
  } else {
    for (const [client, payload] of cases) client.emit(event, payload);
    await expectRooms(everyone.map((c) => [c, cases.filter(([client]) => client === c).map(([, , reason]) => errorEvent(event, reason))]));
  }
}
