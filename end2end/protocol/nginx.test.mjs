// Through the load balancer the README ships (deploy/nginx.conf, Debian's nginx) in front of
// two servers: the site, /readyz, and the chat over both transports. Long-polling works only
// if every request of an Engine.IO session reaches the server that made it (with two
// servers behind round-robin, every other poll would be refused); WebSocket needs the
// Upgrade headers passed on.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, TRANSPORTS, WAIT_MS, expectEvents, loginAll, postSession, until } from './helpers.mjs';
import { startNginx } from './nginx.mjs';
import { startServer } from './server.mjs';

describe('behind nginx', () => {
  const servers = [];
  let proxy;
  const open = [];
  before(async () => {
    servers.push(await startServer(), await startServer());
    proxy = await startNginx(servers.map((server) => server.port));
  });
  after(async () => {
    for (const client of open) client.close();
    await proxy?.stop();
    for (const server of servers) await server.stop();
  });

  test('the page and /readyz answer through it', async () => {
    const page = await fetch(`${proxy.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const ready = await fetch(`${proxy.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'ready');
  });

  test('a log-in from a page served through it is accepted (the Host header is kept as sent)', async () => {
    const answer = await postSession(proxy.url, { name: 'Proxied' }, { headers: { origin: proxy.url } });
    assert.equal(answer.status, 200, answer.text);
    assert.ok(answer.cookie, 'a session cookie');
  });

  for (const { label, options } of TRANSPORTS) {
    test(`a chat reaches everyone through it (${label})`, async () => {
      const ann = new Client(proxy.url, 'ann', options);
      const bob = new Client(proxy.url, 'bob', options);
      open.push(ann, bob);
      await Promise.all([ann.connected(), bob.connected()]);
      const names = label === 'websocket' ? ['Ann', 'Bob'] : ['Ann2', 'Bob2'];
      await loginAll([ann, bob], [[ann, names[0]], [bob, names[1]]]);
      ann.emit('chat', 'through the proxy');
      const chat = ['chat', { sender: names[0], message: 'through the proxy' }];
      await expectEvents([
        [ann, [chat]],
        [bob, [chat]],
      ]);
      if (label !== 'websocket') {
        // Then upgraded to WebSocket through the proxy.
        await until(() => ann.socket.io.engine.transport.name === 'websocket', WAIT_MS, 'the upgrade');
      }
      ann.close();
      bob.close();
    });
  }
});
