// Stops the server started by global-setup.mjs.

export default async function globalTeardown() {
  const server = globalThis.__chatServer;
  if (server) {
    globalThis.__chatServer = undefined;
    await server.stop();
  }
}
