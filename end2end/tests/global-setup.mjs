// Starts one chat server for the whole Playwright run. Its URL goes to the workers as
// process.env.BASE_URL; global-teardown.mjs stops it.

import { startServer } from '../protocol/server.mjs';

export default async function globalSetup() {
  const server = await startServer();
  globalThis.__chatServer = server;
  process.env.BASE_URL = server.url;
}
