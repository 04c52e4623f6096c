/**
 * The console's end-to-end tests: the real app (createTestApp: the run's FerretDB and Redis)
 * listening on a free port, the built console (scripts/build-console.ts, cached), and Debian's
 * chromium driven by playwright-core. Screenshots go to test/console/screenshots/ (git-ignored).
 */
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-console.js';
import { createTestApp } from '../support/app.js';

export const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface ConsoleRig {
  baseUrl: string;
  browser: Browser;
  app: ReturnType<typeof createTestApp>;
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** `appOverrides`: what createTestApp takes, e.g. a config with a strict rate limit to see a 429 in the page. */
export async function startConsoleRig(appOverrides: Parameters<typeof createTestApp>[0] = {}): Promise<ConsoleRig> {
  await buildConsole({ quiet: true });
  const app = createTestApp(appOverrides);
  const server = http.createServer(app.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // playwright-core gives each launch a fresh profile (its own --user-data-dir).
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  await mkdir(SCREENSHOTS, { recursive: true });
  const contexts: BrowserContext[] = [];
  return {
    baseUrl,
    browser,
    app,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
      contexts.push(context);
      return { context, page: await context.newPage() };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Signs in through the sign-in page and waits for the room grid. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/console\/rooms/);
}

export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
