/**
 * The staff console in Chromium (issue 19's benchmarks, not timed tests):
 * 1. the week grid of a facility with BENCH_ROOMS (30) rooms and BENCH_BOOKINGS (2,000)
 *    bookings that week: from the moment the schedule answer reaches the page to the grid
 *    drawn and the main thread free again (every block in the DOM, then a frame and a task),
 *    BENCH_RUNS (10) times; target < 1 s;
 * 2. the first screen's download (the sign-in page: index.html and every file it loads),
 *    gzip as served; target ≤ 600 KB.
 *
 *   npm run bench:console
 *
 * Only the console is measured: it is served by the real static middleware (src/consoleStatic.ts)
 * from console/dist, and the page's API calls are answered by playwright with a synthetic
 * schedule of the size above (the API's own cost is bench:schedule's). Results: stdout and
 * bench/results/console-grid.json.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { chromium } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.js';
import { consoleStatic } from '../src/consoleStatic.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/console/browser.js';
import { envNumber, machine, round, summarize, writeResults } from './support.js';

const ROOMS = envNumber('BENCH_ROOMS', 30);
const BOOKINGS = envNumber('BENCH_BOOKINGS', 2000);
const RUNS = envNumber('BENCH_RUNS', 10);
const OFFSET = 8 * 3_600_000;

function mondayOfThisWeek(): string {
  const now = new Date(Date.now() + OFFSET);
  const wd = now.getUTCDay();
  return new Date(now.getTime() - ((wd + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
}

function schedule(monday: string) {
  const rooms = Array.from({ length: ROOMS }, (_, i) => ({ id: `room${i}`, name: `活动室${i + 1}`, capacity: 20 }));
  const statuses = ['confirmed', 'pending', 'checked_in', 'confirmed', 'completed'];
  const bookings = Array.from({ length: BOOKINGS }, (_, i) => {
    const day = i % 7;
    const slot = Math.floor(i / (7 * ROOMS)) % 26; // 08:00 + 30 min × slot
    const start = Date.parse(`${monday}T08:00:00+08:00`) + day * 86_400_000 + slot * 30 * 60_000;
    return {
      id: `b${i}`, room: `room${Math.floor(i / 7) % ROOMS}`, start: new Date(start).toISOString(), end: new Date(start + 30 * 60_000).toISOString(),
      status: statuses[i % statuses.length], purpose: `活动${i}`, attendees: 5, series: null,
      booker: { name: '王建国', phone: '138****0005' }, flag: i % 97 === 0 ? { reason: '消防检查', at: null } : null,
    };
  });
  return { from: `${monday}T00:00:00+08:00`, to: '', rooms, bookings };
}

const app = new Koa();
app.use(consoleStatic());
await buildConsole({ quiet: true });
const server = http.createServer(app.callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });

try {
  // 2. The first screen's download, gzip as served.
  const first = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page0 = await first.newPage();
  const sizes: Array<{ url: string; bytes: number }> = [];
  page0.on('response', async (res) => {
    if (!res.url().startsWith(base)) return;
    const headers = await res.allHeaders();
    const body = await res.body().catch(() => Buffer.alloc(0));
    // Chromium hands the decoded body; the wire size is the gzip the server sent.
    const gz = headers['content-encoding'] === 'gzip' ? (await import('node:zlib')).gzipSync(body).length : body.length;
    sizes.push({ url: res.url().slice(base.length), bytes: gz });
  });
  await page0.goto(`${base}/console/login`, { waitUntil: 'networkidle' });
  await first.close();
  const firstScreenKB = round(sizes.reduce((s, x) => s + x.bytes, 0) / 1024, 1);

  // 1. The week grid.
  const monday = mondayOfThisWeek();
  const payload = JSON.stringify(schedule(monday));
  const communities = JSON.stringify({ items: [{ id: 'c1', name: '幸福里社区', district: '', facilities: [{ id: 'f1', name: '服务中心', kind: 'community_centre', manage: true }] }] });
  const ms: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, timezoneId: 'Asia/Shanghai' });
    await context.route('**/api/v1/**', (route) => {
      const url = route.request().url();
      const body = url.includes('/communities') ? communities : url.includes('/schedule') ? (url.includes('days=7') ? payload : JSON.stringify({ from: '', to: '', rooms: [], bookings: [] })) : '{"items":[]}';
      return route.fulfill({ status: 200, contentType: 'application/json', body });
    });
    // Browser code as a string: the project's TypeScript has no DOM types.
    await context.addInitScript({ content: `
      const original = window.fetch.bind(window);
      window.fetch = async (...args) => {
        const res = await original(...args);
        if (String(args[0]).includes('days=7')) window.__t0 = performance.now();
        return res;
      };
      new MutationObserver((_, observer) => {
        if (window.__t0 === undefined || document.querySelectorAll('[data-booking]').length < ${BOOKINGS}) return;
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => (window.__t1 = performance.now()), 0));
      }).observe(document, { childList: true, subtree: true });
      sessionStorage.setItem('csb-console-session', JSON.stringify({
        tokens: { accessToken: 'bench', refreshToken: 'bench-refresh-token-000', expiresAt: Date.now() + 3600000 },
        person: { id: 'p1', name: '何丽娜', phone: null, community: 'c1', roles: ['staff'] },
      }));` });
    const page = await context.newPage();
    await page.goto(`${base}/console/rooms`);
    await page.locator('[data-test=room-grid]').waitFor();
    await page.getByText('周', { exact: true }).click();
    await page.waitForFunction('window.__t1 !== undefined', null, { timeout: 30_000 });
    const t = (await page.evaluate('window.__t1 - window.__t0')) as number;
    ms.push(round(t));
    await context.close();
  }
  const grid = summarize(ms);
  const result = { machine: machine(), rooms: ROOMS, bookings: BOOKINGS, weekGridMs: grid, runsMs: ms, firstScreenKB, firstScreenFiles: sizes };
  console.log(`week grid, ${ROOMS} rooms × ${BOOKINGS} bookings: median ${grid.median} ms, max ${grid.max} ms over ${RUNS} runs (target < 1000 ms)`);
  console.log(`first screen download (gzip): ${firstScreenKB} KB in ${sizes.length} files (target ≤ 600 KB)`);
  console.log(`results: ${await writeResults('console-grid', result)}`);
} finally {
  await browser.close();
  server.close();
}
