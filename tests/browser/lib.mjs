// Shared pieces of the browser tests: a cohort cluster (tests/integ harness,
// serving frontend/dist) with the demo data, Debian's chromium through
// playwright-core, signed-in pages, and screenshots under var/screenshots/.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startCluster, curl, waitFor, sleep, ROOT } from '../integ/lib/cluster.mjs';

export { curl, waitFor, sleep, ROOT };

export const SHOTS = path.join(ROOT, 'var/screenshots');
export const PASSWORD = 'cohort-demo';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
}

/** A cluster with the demo data; returns {c, seed}. */
export async function demoCluster(opts = {}) {
  const c = await startCluster(opts);
  try {
    const seed = await c.cliJson('seed-demo');
    return { c, seed };
  } catch (e) {
    await c.stop().catch(() => {});
    throw e;
  }
}

/** Signs in through the API with curl and returns the session token. */
export async function token(c, login) {
  const r = await curl(`${c.url}/api/v1/sessions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password: PASSWORD }),
  });
  if (r.status !== 201) throw new Error(`sign-in ${login}: ${r.status} ${r.body}`);
  return r.json().token;
}

/** A JSON API call as a user (Bearer token). */
export async function apiAs(c, tok, method, p, body) {
  const headers = { Authorization: `Bearer ${tok}` };
  let data;
  if (body !== undefined) {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      headers['Content-Type'] = 'application/octet-stream';
      data = body;
    } else {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(body);
    }
  }
  const r = await curl(`${c.url}/api/v1${p}`, { method, headers, body: data });
  return { status: r.status, body: r.body, json: () => JSON.parse(r.body) };
}

/**
 * A new browser context and page signed in as `login` through the sign-in
 * page. Page errors and JavaScript dialogs (alert) are recorded in
 * page.problems so a test can assert that none happened.
 */
export async function signedInPage(browser, c, login, { viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // Generous: CI machines may be busy (the suite shares two cores with builds and fuzzers).
  page.setDefaultTimeout(20000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('dialog', async (d) => { page.problems.push(`dialog ${d.type()}: ${d.message()}`); await d.dismiss().catch(() => {}); });
  await page.goto(`${c.url}/signin`);
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My courses' }).waitFor();
  return page;
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The open editors of an IDE page (window.cohort, the page's test hook). */
export function editors(page) {
  return page.evaluate(() => (window.cohort ? window.cohort.editors() : []));
}
