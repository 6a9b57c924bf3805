// The room page (/room/<name>, docs/rooms.md): two anonymous users join with
// names (a hostile one shown as text), see each other in the roster, type
// concurrently and converge; one leaves and disappears from the other's
// roster. When the server has no room API the live part is skipped and the
// page must say that rooms are not available.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, waitFor, curl, editors } from './lib.mjs';
import { startCluster } from '../integ/lib/cluster.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const ROOM = 'demo-room';
let c, browser, available;

before(async () => {
  c = await startCluster({ env: { COHORT_ROOMS_ENABLED: 'true', COHORT_ROOMS_MSGS_PER_S: '1000', COHORT_ROOMS_CREATE_PER_MIN: '100' } });
  browser = await launch();
  const r = await curl(`${c.url}/api/v1/rooms/probe-room`);
  available = !(r.status === 404 && /no_route|feature_disabled/.test(r.body));
});

after(async () => {
  await browser?.close();
  await c?.stop();
});

async function anonymousPage() {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('dialog', async (d) => { page.problems.push(`dialog ${d.type()}: ${d.message()}`); await d.dismiss().catch(() => {}); });
  return page;
}

async function enter(page, name) {
  await page.goto(`${c.url}/room/${ROOM}`);
  await page.getByRole('heading', { name: `Room ${ROOM}` }).waitFor();
  await page.getByLabel('Your name in the room').fill(name);
  await page.getByRole('button', { name: 'Enter' }).click();
}

test('without the room API the page says rooms are not available', { skip: false }, async (t) => {
  if (available) {
    t.skip('the server has the room API');
    return;
  }
  const page = await anonymousPage();
  await enter(page, XSS);
  await page.getByText('Rooms are not available on this server').waitFor();
  assert.equal(await page.locator('main img:not(.cm-widgetBuffer)').count(), 0);
  await shot(page, 'room');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('two anonymous users: roster with names as text, concurrent typing converges, leaving updates the roster', async (t) => {
  if (!available) {
    t.skip('the server has no room API yet (docs/rooms.md)');
    return;
  }
  const ada = await anonymousPage();
  const bad = await anonymousPage();
  await enter(ada, 'Ada');
  await ada.getByTestId('indicator').and(ada.locator('[data-state=live]')).waitFor();
  await enter(bad, XSS);
  await bad.getByTestId('indicator').and(bad.locator('[data-state=live]')).waitFor();
  for (const p of [ada, bad]) {
    const roster = p.getByRole('list', { name: 'People in the room' });
    await roster.locator('.nick', { hasText: 'Ada' }).waitFor();
    await roster.locator('.nick').filter({ hasText: XSS }).waitFor();
    assert.equal(await p.locator('main img:not(.cm-widgetBuffer)').count(), 0);
  }
  assert.equal(await bad.getByTestId('room-name').textContent(), XSS);

  await Promise.all([[ada, 'a'], [bad, 'b']].map(async ([p, ch]) => {
    await p.locator('.cm-content').click();
    for (let k = 0; k < 4; k++) {
      await p.keyboard.type(ch.repeat(5) + ' ', { delay: 5 });
      await p.keyboard.press(k % 2 ? 'Home' : 'End');
    }
  }));
  let last;
  await waitFor(async () => {
    const e = await Promise.all([ada, bad].map(async (p) => (await editors(p))[0]));
    last = e;
    const s = e.map((x) => x?.text);
    return e.every((x) => x && x.unsent === 0) && s[0] === s[1] && [...s[0]].filter((x) => x === 'a').length === 20
      && [...s[0]].filter((x) => x === 'b').length === 20;
  }, { timeout: 30000, interval: 200, what: 'room convergence' }).catch((e) => { throw new Error(`${e.message} ${JSON.stringify(last)}`); });
  // Each sees the other's cursor with the name as text.
  await ada.locator('.cm-remote-name').filter({ hasText: XSS }).waitFor();
  await bad.locator('.cm-remote-name', { hasText: 'Ada' }).waitFor();
  assert.equal(await ada.locator('main img:not(.cm-widgetBuffer)').count(), 0);
  await shot(ada, 'room');

  await bad.getByRole('button', { name: 'Leave the room' }).click();
  await bad.getByLabel('Your name in the room').waitFor();
  await waitFor(async () => (await ada.getByRole('list', { name: 'People in the room' }).locator('li').count()) === 1,
    { timeout: 20000, what: 'the leaver leaves the roster' });
  assert.deepEqual(ada.problems, []);
  assert.deepEqual(bad.problems, []);
  await ada.context().close();
  await bad.context().close();
});
