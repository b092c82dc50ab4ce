// Fixtures shared by the browser specs:
//   server (automatic): a fresh server with its own empty database for each test, so every
//     test starts alone, with no history, and may use plain names (Ann, Bob, ...). Session
//     users keep their name for 2 s after their last connection closes (--session-grace-ms).
//   openUser(): a fresh browser context + page on the app, hydrated (optionally logged in);
//     closed after the test (closing a context = that user leaves).
//   bot(name): a socket.io-client user logged in over WebSocket, for driving the lobby from
//     outside the browser; closed after the test.

import { test as base, expect } from '@playwright/test';
import { io } from 'socket.io-client';

import { startServer } from '../protocol/server.mjs';

/** How long a session user keeps their name after their last connection closes. */
export const SESSION_GRACE_MS = 2_000;

/** How long the wasm app may take to load, hydrate and connect. */
export const HYDRATION_TIMEOUT_MS = Number(process.env.CHAT_HYDRATION_TIMEOUT_MS || 30_000);

/** The server of the running test. */
let current = null;

export function baseURL() {
  if (!current) throw new Error('no server: use the fixtures of this file (`test` from fixtures.mjs)');
  return current.url;
}

/** The server of the running test (to restart it). */
export function currentServer() {
  return current;
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

/** Logs in through the login form; waits for the lobby. submit: 'click' or 'enter'. */
export async function login(page, name, { submit = 'click' } = {}) {
  const input = page.getByTestId('name-input');
  await input.fill(name);
  if (submit === 'enter') await input.press('Enter');
  else await page.getByTestId('login-button').click();
  await expect(page.getByTestId('message-input')).toBeVisible();
  await expect(page.getByTestId('login-form')).toHaveCount(0);
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

/** Chat entries (li.message) of the message list. */
export function messages(page) {
  return page.getByTestId('messages').locator('li.message');
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
  }

  /** Sends a chat; like a real client, this ends its typing (the server sends userStoppedTyping). */
  chat(text) {
    clearInterval(this.typingTimer);
    this.typingTimer = null;
    this.socket.emit('chat', text);
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
  server: [
    async ({}, use) => {
      current = await startServer({ args: ['--session-grace-ms', String(SESSION_GRACE_MS)] });
      try {
        await use(current);
      } finally {
        await current.stop();
        current = null;
      }
    },
    { auto: true },
  ],

  openUser: async ({ browser }, use) => {
    const contexts = [];
    await use(async ({ name, submit, contextOptions } = {}) => {
      const context = await browser.newContext(contextOptions);
      contexts.push(context);
      const page = await context.newPage();
      await openApp(page);
      if (name !== undefined) await login(page, name, { submit });
      return { context, page, name };
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
