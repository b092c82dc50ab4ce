// The site as the release binary serves it: the server-rendered page, the app bundle under
// content-hashed names with long-lived caching, precompressed transfers, revalidated HTML.
// Run against the binary copied alone into an empty folder (scripts/test.sh does that).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useServer } from './helpers.mjs';

const ctx = useServer();

async function get(path, headers = {}) {
  const response = await fetch(new URL(path, ctx.url), { headers });
  const body = Buffer.from(await response.arrayBuffer());
  return { response, body };
}

/** The bundle URLs the page refers to: { js, wasm, css }. */
async function bundleUrls() {
  const { body } = await get('/');
  const html = body.toString('utf8');
  const urls = {};
  for (const ext of ['js', 'wasm', 'css']) {
    const match = html.match(new RegExp(`/pkg/chat\\.[A-Za-z0-9_-]+\\.${ext}`));
    assert.ok(match, `the page refers to a hashed .${ext}:\n${html.slice(0, 2000)}`);
    urls[ext] = match[0];
  }
  return urls;
}

describe('the site', () => {
  test('/healthz and /readyz answer a load balancer, uncached', async () => {
    for (const [path, text] of [['/healthz', 'ok'], ['/readyz', 'ready']]) {
      const { response, body } = await get(path);
      assert.equal(response.status, 200, path);
      assert.equal(body.toString('utf8'), text, path);
      assert.equal(response.headers.get('cache-control'), 'no-store', path);
    }
  });

  test('the first page is server-rendered HTML with the login form, never cached stale', async () => {
    const { response, body } = await get('/');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /text\/html/);
    assert.equal(response.headers.get('cache-control'), 'no-cache, private');
    const html = body.toString('utf8');
    assert.match(html, /data-testid="login-form"/);
    assert.match(html, /data-testid="name-input"/);
    assert.match(html, /data-testid="login-button"/);
  });

  test('the bundle is served under hashed names, immutable, with the right types', async () => {
    const types = { js: /javascript/, wasm: /application\/wasm/, css: /text\/css/ };
    for (const [ext, url] of Object.entries(await bundleUrls())) {
      const { response, body } = await get(url, { 'accept-encoding': 'identity' });
      assert.equal(response.status, 200, url);
      assert.match(response.headers.get('content-type'), types[ext], url);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable', url);
      assert.ok(response.headers.get('etag'), `${url} has an ETag`);
      assert.ok(body.length > 100, `${url} has content`);
    }
    const wasm = (await get((await bundleUrls()).wasm, { 'accept-encoding': 'identity' })).body;
    assert.deepEqual([...wasm.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'a real wasm module');
  });

  test('browsers get the bundle compressed: brotli when accepted, else gzip', async () => {
    const urls = await bundleUrls();
    let brotliTotal = 0;
    for (const url of Object.values(urls)) {
      const identity = (await get(url, { 'accept-encoding': 'identity' })).body.length;
      const raw = await fetch(new URL(url, ctx.url), { headers: { 'accept-encoding': 'br' } });
      assert.equal(raw.headers.get('content-encoding'), 'br', url);
      const brotli = Number(raw.headers.get('content-length'));
      await raw.arrayBuffer();
      assert.ok(brotli > 0 && brotli < identity, `${url}: ${brotli} < ${identity}`);
      brotliTotal += brotli;
      const gz = await fetch(new URL(url, ctx.url), { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(gz.headers.get('content-encoding'), 'gzip', url);
      await gz.arrayBuffer();
    }
    // A guard against growth, not the target: the target is 150 KB, which the app with rooms
    // and direct messages misses today (184 KiB; see the README, "Size of the first page").
    assert.ok(brotliTotal < 200 * 1024, `first page bundle ${brotliTotal} bytes brotli, over 200 KiB`);
  });

  test('unchanged files answer 304 to a matching If-None-Match', async () => {
    const { css } = await bundleUrls();
    const first = await get(css);
    const again = await fetch(new URL(css, ctx.url), { headers: { 'if-none-match': first.response.headers.get('etag') } });
    assert.equal(again.status, 304);
  });

  test('stale bundle names and unknown files are 404, not the page', async () => {
    assert.equal((await get('/pkg/chat.0000000000000000.wasm')).response.status, 404);
    assert.equal((await get('/nope.txt')).response.status, 404);
    assert.equal((await get('/favicon.svg')).response.status, 200);
  });
});
