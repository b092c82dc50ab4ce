// Ghosts: sockets that log in and vanish at once must never stay online. Afterwards
// onlineUsers is empty, every userJoined seen is matched by one userLeft, and the names are free.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Client, Clients, RawSocket, TRANSPORTS, onlineUsers, sleep, uniqueName, useServer, waitLobbyEmpty,
} from './helpers.mjs';

const ctx = useServer();

const GHOSTS = 50;

/** onlineUsers from a fresh client is [] within a moment. */
async function assertNobodyOnline() {
  try {
    await waitLobbyEmpty(ctx.url, 3_000);
  } catch (error) {
    assert.fail(`ghosts stayed online: ${error.message}`);
  }
  assert.deepStrictEqual(await onlineUsers(ctx.url), []);
}

/** For every name the observer heard about: at most one userJoined, then exactly one userLeft. */
async function assertBalanced(observer, names) {
  await sleep(300);
  const events = observer.take();
  const unexpected = events.filter((e) => !['userJoined', 'userLeft'].includes(e[0]) || !names.includes(e[1]));
  assert.deepStrictEqual(unexpected, [], 'the observer got only userJoined / userLeft of ghosts');
  for (const name of names) {
    const mine = events.filter((e) => e[1] === name).map((e) => e[0]);
    assert.ok(
      mine.length === 0 || (mine.length === 2 && mine[0] === 'userJoined' && mine[1] === 'userLeft'),
      `${name}: expected nothing or userJoined then userLeft, got ${JSON.stringify(mine)}`,
    );
  }
}

async function assertNameFree(name) {
  const client = new Client(ctx.url, `reuse ${name}`, { transports: ['websocket'] });
  try {
    await client.connected();
    client.emit('login', name);
    const [event, payload] = await client.waitFor((e) => ['welcome', 'loginNameExists', 'loginNameBad'].includes(e[0]));
    assert.deepStrictEqual([event, payload], ['welcome', name], `logging in again as ghost ${name}`);
  } finally {
    client.close();
  }
}

for (const { label, options } of TRANSPORTS) {
  describe(`ghosts (${label})`, () => {
    const clients = new Clients(ctx, options);

    test(`${GHOSTS} sockets, one after the other, log in and disconnect at once`, async () => {
      const observer = await clients.connect('observer', TRANSPORTS[0].options);
      const names = [];
      for (let i = 0; i < GHOSTS; i += 1) {
        const name = uniqueName('g');
        names.push(name);
        const ghost = new Client(ctx.url, name, options);
        await ghost.connected();
        ghost.emit('login', name);
        ghost.close();
      }
      await assertNobodyOnline();
      await assertBalanced(observer, names);
      await assertNameFree(names[0]);
      await assertNameFree(names[GHOSTS - 1]);
    });

    test(`${GHOSTS} sockets at once log in and disconnect at once`, async () => {
      const observer = await clients.connect('observer', TRANSPORTS[0].options);
      const names = Array.from({ length: GHOSTS }, () => uniqueName('g'));
      await Promise.all(
        names.map(async (name) => {
          const ghost = new Client(ctx.url, name, options);
          await ghost.connected();
          ghost.emit('login', name);
          ghost.close();
        }),
      );
      await assertNobodyOnline();
      await assertBalanced(observer, names);
      await assertNameFree(names[GHOSTS >> 1]);
    });
  });
}

describe('ghosts (raw WebSocket)', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  test(`${GHOSTS} raw connections send login and vanish without waiting (close or TCP drop)`, async () => {
    const observer = await clients.connect('observer');
    const names = [];
    for (let i = 0; i < GHOSTS; i += 1) {
      const name = uniqueName('r');
      names.push(name);
      const raw = new RawSocket(ctx.url);
      await raw.open();
      raw.send('40');
      raw.send(`42${JSON.stringify(['login', name])}`);
      if (i % 2 === 0) raw.close();
      else raw.terminate();
    }
    await assertNobodyOnline();
    await assertBalanced(observer, names);
    await assertNameFree(names[1]);
  });

  test(`${GHOSTS} raw connections log in, chat and type, then drop`, async () => {
    const observer = await clients.connect('observer');
    const names = [];
    for (let i = 0; i < GHOSTS; i += 1) {
      const name = uniqueName('t');
      names.push(name);
      const raw = new RawSocket(ctx.url);
      await raw.open();
      raw.send('40');
      raw.send(`42${JSON.stringify(['login', name])}`);
      raw.send('42["typing"]');
      raw.send(`42${JSON.stringify(['chat', `boo from ${name}`])}`);
      raw.send('42["typing"]');
      raw.terminate();
    }
    await assertNobodyOnline();
    await sleep(300);
    // Whatever each ghost managed to do, it ended in order: joined … stopped typing, left.
    const events = observer.take();
    for (const name of names) {
      const mine = events
        .filter((e) => e[1] === name || (e[0] === 'chat' && e[1].sender === name))
        .map((e) => e[0]);
      if (mine.length === 0) continue;
      assert.equal(mine[0], 'userJoined', `${name}: ${JSON.stringify(mine)}`);
      assert.equal(mine.at(-1), 'userLeft', `${name}: ${JSON.stringify(mine)}`);
      assert.equal(mine.filter((e) => e === 'userLeft').length, 1, `${name}: ${JSON.stringify(mine)}`);
      assert.equal(
        mine.filter((e) => e === 'userTyping').length,
        mine.filter((e) => e === 'userStoppedTyping').length,
        `${name}: every userTyping is ended: ${JSON.stringify(mine)}`,
      );
    }
  });
});
