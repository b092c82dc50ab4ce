// Resilience: oversized packets, non-string payloads, malformed raw frames, HTTP garbage and
// connection churn. After each, the server must go on serving: a fresh client logs in, chats
// and gets its own chat back, and clients connected all along are unaffected.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Client, Clients, RawSocket, TRANSPORTS, assertServerServes, expectEvents, loginAll, rejected, sleep,
  uniqueName, useServer,
} from './helpers.mjs';

const ctx = useServer();

const MB = 1 << 20;

describe('oversized packets (max-payload-bytes, 64 KiB by default)', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  for (const { label, options } of [
    { label: 'websocket', options: { transports: ['websocket'] } },
    { label: 'polling', options: { transports: ['polling'] } },
  ]) {
    test(`a 1 MB chat over ${label} closes only the sender's connection; its name is freed`, async () => {
      const [bob, lurker] = await clients.connectMany(['bob', 'lurker']);
      const ann = await clients.connect(`ann (${label})`, options);
      await loginAll([bob, lurker, ann], [[bob, 'Bob'], [ann, 'Ann']]);

      ann.emit('chat', 'x'.repeat(MB));
      await ann.waitForDisconnect(5_000);
      await expectEvents([[bob, [['userLeft', 'Ann']]], [lurker, [['userLeft', 'Ann']]]], { timeoutMs: 5_000 });
      assert.ok(bob.socket.connected && lurker.socket.connected, 'the others stay connected');

      await assertServerServes(ctx, 'Ann', [bob, lurker]);
    });
  }

  test('a 60 KB chat (under the limit) is refused as messageTooLong and the connection stays', async () => {
    const [ann, bob] = await clients.connectMany(['ann', 'bob']);
    await loginAll([ann, bob], [[ann, 'Ann']]);
    ann.emit('chat', 'y'.repeat(60_000));
    await expectEvents([[ann, [rejected('chat', 'messageTooLong')]], [bob, []]]);
    ann.emit('chat', 'still here');
    const message = ['chat', { sender: 'Ann', message: 'still here' }];
    await expectEvents([[ann, [message]], [bob, [message]]]);
  });

  test('a 1 MB login name closes only that connection, silently for the others', async () => {
    const [bob, tryer] = await clients.connectMany(['bob', 'tryer']);
    await loginAll([bob, tryer], [[bob, 'Bob']]);
    tryer.emit('login', 'n'.repeat(MB));
    await tryer.waitForDisconnect(5_000);
    await expectEvents([[bob, []]]);
    await assertServerServes(ctx, uniqueName('big'), [bob]);
  });
});

describe('non-string and odd payloads', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  let deep = 'bottom';
  for (let i = 0; i < 300; i += 1) deep = [deep];
  const payloads = [
    ['null', null],
    ['zero', 0],
    ['a float', -1.5],
    ['a huge number', 1e308],
    ['true', true],
    ['an empty object', {}],
    ['an empty array', []],
    ['an object', { name: 'Ann', message: 'hi', sender: 'Mallory' }],
    ['a 5000-element array', Array.from({ length: 5_000 }, (_, i) => i)],
    ['a 300-level nested array', deep],
  ];

  for (const [what, payload] of payloads) {
    test(`${what} as the payload of every event`, async () => {
      const [ann, bob] = await clients.connectMany(['ann', 'bob']);
      await loginAll([ann, bob], [[ann, 'Ann']]);
      const tryer = await clients.connect('tryer');
      for (const event of ['login', 'chat', 'typing', 'stopTyping', 'onlineUsers', 'dance']) {
        tryer.emit(event, payload);
        ann.emit(event, payload);
      }
      await sleep(300);
      // Nobody may have joined or chatted; ann may have started and stopped typing.
      const broadcasts = bob.take().filter((e) => !['userTyping', 'userStoppedTyping'].includes(e[0]));
      assert.deepStrictEqual(broadcasts, [], 'no userJoined or chat came out of it');
      await assertServerServes(ctx, uniqueName('ok'), [bob]);
    });
  }

  test('a binary payload (Socket.IO attachment) as chat is refused as notAString', async () => {
    const [ann, bob] = await clients.connectMany(['ann', 'bob']);
    await loginAll([ann, bob], [[ann, 'Ann']]);
    ann.emit('chat', Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await expectEvents([[ann, [rejected('chat', 'notAString')]], [bob, []]]);
    ann.emit('login', Buffer.from('Mallory'));
    await sleep(300);
    assert.deepStrictEqual(bob.take(), [], 'a binary name does not log anyone in');
    await assertServerServes(ctx, uniqueName('bin'), [ann, bob]);
  });
});

describe('malformed raw WebSocket frames', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  const junk = Buffer.from([0xff, 0x00, 0x13, 0x37, 0xc3, 0x28, 0xfe, 0xfe, 0x80, 0x81]);
  const frames = [
    ['4garbage', '4garbage'],
    ['42[', '42['],
    ['42["chat"', '42["chat"'],
    ['42["chat","x",', '42["chat","x",'],
    ['9', '9'],
    ['an empty frame', ''],
    ['4', '4'],
    ['42', '42'],
    ['42{}', '42{}'],
    ['42[]', '42[]'],
    ['42[42]', '42[42]'],
    ['42[null]', '42[null]'],
    ['42[{"a":1}]', '42[{"a":1}]'],
    ['a lone surrogate', '42["chat","\\ud800"]'],
    ['a 400-digit number', `42["chat",${'9'.repeat(400)}]`],
    ['an ack for nothing', '43["x"]'],
    ['an event asking for an ack', '4299["chat","with ack"]'],
    ['a huge ack id', '4212345678901234567890123456789["chat","x"]'],
    ['a binary event without attachments', '451-["chat",{"_placeholder":true,"num":0}]'],
    ['a binary event pointing past its attachments', '451-["chat",{"_placeholder":true,"num":7}]'],
    ['an unknown namespace', '40/nowhere,'],
    ['an event to an unknown namespace', '42/nowhere,["chat","x"]'],
    ['a namespace disconnect', '41'],
    ['a second namespace connect', '40'],
    ['a client ping', '2'],
    ['a pong without ping', '3'],
    ['an upgrade packet', '5'],
    ['a noop packet', '6'],
    ['a close packet', '1'],
    ['plain text', 'hello server'],
    ['binary junk', junk],
    ['binary junk in a message packet', Buffer.concat([Buffer.from([4]), junk])],
  ];

  for (const [what, frame] of frames) {
    test(`${what}: the server goes on serving everyone`, async () => {
      const [watcher, lurker] = await clients.connectMany(['watcher', 'lurker']);
      await loginAll([watcher, lurker], [[watcher, 'Watcher']]);
      const raws = [];
      try {
        // Once after logging in, once right after the handshake, once before the handshake.
        const loggedIn = new RawSocket(ctx.url);
        raws.push(loggedIn);
        await loggedIn.connectNamespace();
        loggedIn.send('42["login","Rawly"]');
        await loggedIn.waitFrame((f) => f === '42["welcome","Rawly"]');
        loggedIn.safeSend(frame);

        const fresh = new RawSocket(ctx.url);
        raws.push(fresh);
        await fresh.open();
        fresh.safeSend(frame);

        const early = new RawSocket(ctx.url);
        raws.push(early);
        await new Promise((resolve, reject) => {
          early.ws.once('open', resolve);
          early.ws.once('error', reject);
        });
        early.safeSend(frame);

        await sleep(150);
        await assertServerServes(ctx, uniqueName('ok'), [watcher, lurker]);
        // Whatever happened to Rawly, nobody but the server's own events reached the others.
        const seen = [...watcher.take(), ...lurker.take()].filter((e) => e[0] !== 'chat' && e[0] !== 'userJoined' && e[0] !== 'userLeft');
        assert.deepStrictEqual(seen, []);
      } finally {
        for (const raw of raws) raw.terminate();
      }
    });
  }

  test('invalid UTF-8 in a text frame: the server goes on serving everyone', async () => {
    const [watcher] = await clients.connectMany(['watcher']);
    await loginAll([watcher], [[watcher, 'Watcher']]);
    const raw = new RawSocket(ctx.url);
    try {
      await raw.connectNamespace();
      // ws does not validate outgoing text frames: these bytes go out as a text frame.
      raw.send(Buffer.from([0x34, 0x32, 0xc3, 0x28, 0xff]), { binary: false });
      await sleep(150);
      await assertServerServes(ctx, uniqueName('utf'), [watcher]);
    } finally {
      raw.terminate();
    }
  });
});

describe('HTTP garbage', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  test('bad Engine.IO requests are refused and the server goes on serving', async () => {
    const [watcher] = await clients.connectMany(['watcher']);
    await loginAll([watcher], [[watcher, 'Watcher']]);
    const base = ctx.url;
    const requests = [
      ['GET', '/socket.io/?EIO=4&transport=polling&sid=nosuchsid'],
      ['POST', '/socket.io/?EIO=4&transport=polling&sid=nosuchsid', '42["chat","x"]'],
      ['GET', '/socket.io/?EIO=3&transport=polling'],
      ['GET', '/socket.io/?EIO=99&transport=polling'],
      ['GET', '/socket.io/?EIO=4&transport=carrier-pigeon'],
      ['GET', '/socket.io/?transport=polling'],
      ['POST', '/socket.io/?EIO=4&transport=polling', 'garbage'],
      ['GET', '/socket.io/?EIO=4&transport=websocket'],
    ];
    for (const [method, path, body] of requests) {
      const response = await fetch(new URL(path, base), { method, body });
      await response.arrayBuffer();
      assert.ok(response.status >= 400, `${method} ${path} → ${response.status}`);
    }

    // A real polling session, then garbage posted into it.
    const open = await (await fetch(new URL('/socket.io/?EIO=4&transport=polling', base))).text();
    const { sid } = JSON.parse(open.slice(1));
    const post = (text) => fetch(new URL(`/socket.io/?EIO=4&transport=polling&sid=${sid}`, base), { method: 'POST', body: text })
      .then(async (r) => { await r.arrayBuffer(); return r.status; });
    await post('40');
    for (const text of ['42[', '4garbage', '\u001e\u001e', '42["login","Polly"]\u001e42["chat"', '9']) await post(text);
    await sleep(150);
    await assertServerServes(ctx, uniqueName('http'), [watcher]);
  });
});

describe('connection churn', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  test('100 rapid connects and disconnects, over every transport and raw', async () => {
    const [watcher] = await clients.connectMany(['watcher']);
    await loginAll([watcher], [[watcher, 'Watcher']]);
    const churn = [];
    for (let i = 0; i < 100; i += 1) {
      const kind = i % 4;
      if (kind === 0) {
        const c = new Client(ctx.url, `churn ${i}`, { transports: ['websocket'] });
        churn.push(c.connected().then(() => c.close(), () => c.close()));
      } else if (kind === 1) {
        const c = new Client(ctx.url, `churn ${i}`, {});
        churn.push(c.connected().then(() => c.close(), () => c.close()));
      } else if (kind === 2) {
        // Closed before even connecting.
        const c = new Client(ctx.url, `churn ${i}`, TRANSPORTS[i % 2].options);
        c.close();
      } else {
        const raw = new RawSocket(ctx.url);
        raw.ws.on('error', () => {});
        if (i % 8 === 3) raw.terminate();
        else churn.push(raw.open().then(() => raw.terminate(), () => raw.terminate()));
      }
      if (i % 10 === 9) await sleep(5);
    }
    await Promise.all(churn);
    await sleep(200);
    assert.deepStrictEqual(watcher.take(), [], 'sockets that never logged in leave silently');
    await assertServerServes(ctx, uniqueName('churn'), [watcher]);
  });
});
