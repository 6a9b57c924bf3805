// Live editing in real browsers: three users type concurrently in the same
// lines of one file and every page converges to the server's text; remote
// cursors show with names; sharing gives and revoking takes access live; a
// cohort-stream restart while typing loses nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, demoCluster, token, apiAs, signedInPage, shot, waitFor, editors, curl, sleep } from './lib.mjs';

const FILE = 'src/main.c';
const START = '#include <stdio.h>\n\nint main(void)\n{\n    printf("hello\\n");\n    return 0;\n}\n';
let c, seed, browser, project, aliceTok;
const pages = {};

async function serverText() {
  const r = await apiAs(c, aliceTok, 'GET', `/projects/${project}/doc?path=${encodeURIComponent(FILE)}`);
  assert.equal(r.status, 200, r.body);
  return r.json().text;
}

/** Waits until every page has nothing unsent and the same text as the server. */
async function converged(list, what) {
  let last;
  await waitFor(async () => {
    const server = await serverText();
    const states = await Promise.all(list.map(async (p) => (await editors(p)).find((e) => e.path === FILE)));
    last = { server, states };
    return states.every((s) => s && s.unsent === 0 && s.text === server);
  }, { timeout: 30000, interval: 200, what: `${what}: ${JSON.stringify(last)?.slice(0, 2000)}` }).catch((e) => {
    throw new Error(`${e.message}\nlast: ${JSON.stringify(last)}`);
  });
  return last.server;
}

async function openFile(page) {
  await page.getByRole('button', { name: `Open ${FILE}` }).click();
  await page.locator('.cm-content').getByText('printf').waitFor();
  await waitFor(async () => (await editors(page)).some((e) => e.path === FILE && e.status === 'synced'), { what: 'editor synced' });
}

/** Clicks at the end of line `line` (1-based) of the editor. */
async function caretAtLineEnd(page, line) {
  await page.locator('.cm-content .cm-line').nth(line - 1).click();
  await page.keyboard.press('End');
}

before(async () => {
  ({ c, seed } = await demoCluster());
  browser = await launch();
  aliceTok = await token(c, 'alice');
  project = (await apiAs(c, aliceTok, 'GET', `/lessons/${seed.lessons[0].id}/project`)).json().project.id;
  const r = await apiAs(c, aliceTok, 'PUT', `/projects/${project}/file?path=${encodeURIComponent(FILE)}&parents=1`, START);
  assert.equal(r.status, 201, r.body);
  for (const login of ['teacher', 'alice', 'bob']) pages[login] = await signedInPage(browser, c, login);
});

after(async () => {
  await browser?.close();
  await c?.stop();
});

test('share: alice grants bob write in the share dialog; bob\'s page gains the project live', async () => {
  const { alice, bob } = pages;
  await bob.goto(`${c.url}/lessons/${seed.lessons[0].id}`);
  const bobList = bob.getByRole('list', { name: 'Projects I can open' });
  await bobList.getByText('Teacher', { exact: true }).waitFor();
  assert.equal(await bobList.getByRole('link', { name: 'Alice' }).count(), 0);

  await alice.goto(`${c.url}/lessons/${seed.lessons[0].id}`);
  await alice.getByRole('button', { name: 'Share…' }).click();
  const dlg = alice.getByRole('dialog', { name: 'Share this project' });
  await dlg.getByRole('checkbox', { name: 'Write for Bob' }).check();
  await dlg.getByRole('button', { name: 'Save access for Bob' }).click();
  await dlg.getByText('Saved for Bob.').waitFor();
  await shot(alice, 'share-dialog');
  await dlg.getByRole('button', { name: 'Close' }).click();
  await alice.getByRole('list', { name: 'Who can open my project' }).getByText('Bob', { exact: true }).waitFor();

  // Live: bob's list gains Alice's project without a reload.
  await bobList.getByRole('link', { name: 'Alice' }).click();
  await bob.locator(`.tree li[data-path="${FILE}"]`).waitFor();
  assert.equal(new URL(bob.url()).pathname, `/projects/${project}`);
});

test('three users typing concurrently in the same lines converge, on every page and on the server', async () => {
  const list = [pages.teacher, pages.alice, pages.bob];
  await pages.teacher.goto(`${c.url}/projects/${project}`);
  for (const p of list) await openFile(p);

  // Phase 1: only insertions, each user with their own letter, so that every
  // typed character can be counted in the result.
  const letters = ['Q', 'X', 'Z'];
  const typed = [0, 0, 0];
  for (let round = 0; round < 4; round++) {
    await Promise.all(list.map(async (p, i) => {
      await caretAtLineEnd(p, 5 + (round % 2));
      await p.keyboard.press('Home');
      for (let k = 0; k < 3; k++) await p.keyboard.press('ArrowRight');
      const s = letters[i].repeat(3 + round) + ' ';
      await p.keyboard.type(s, { delay: 5 });
      typed[i] += 3 + round;
    }));
  }
  const text1 = await converged(list, 'insertions');
  letters.forEach((l, i) => assert.equal([...text1].filter((ch) => ch === l).length, typed[i], `every ${l} typed arrives once`));

  // Phase 2: insertions, deletions and new lines in the same place at once.
  await Promise.all(list.map(async (p, i) => {
    for (let k = 0; k < 6; k++) {
      await caretAtLineEnd(p, 5);
      if ((k + i) % 3 === 0) await p.keyboard.press('Backspace');
      else if ((k + i) % 3 === 1) await p.keyboard.type(`é😀${i}`, { delay: 3 });
      else await p.keyboard.press('Enter');
    }
  }));
  await converged(list, 'mixed edits');
  await shot(pages.alice, 'ide-collab');
});

test('two users typing at random places in a Python file converge', async () => {
  const { teacher, alice } = pages;
  const PY = 'notes/plan.py';
  const r = await apiAs(c, aliceTok, 'PUT', `/projects/${project}/file?path=${encodeURIComponent(PY)}&parents=1`,
    'def plan():\n    steps = []\n    return steps\n');
  assert.equal(r.status, 201, r.body);
  for (const p of [teacher, alice]) {
    await p.getByRole('button', { name: `Open ${PY}` }).click();
    await p.locator('.cm-content').getByText('steps = []').waitFor();
  }
  // Python keywords are highlighted.
  await waitFor(async () => (await alice.locator('.cm-content span[class]', { hasText: 'def' }).count()) > 0,
    { what: 'the Python keyword def highlighted' });
  let seedN = 7;
  const rnd = (n) => { seedN = (seedN * 1103515245 + 12345) % 2147483648; return seedN % n; };
  const keys = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End'];
  await Promise.all([teacher, alice].map(async (p, i) => {
    await p.locator('.cm-content .cm-line').nth(1).click();
    for (let k = 0; k < 25; k++) {
      await p.keyboard.press(keys[rnd(keys.length)]);
      const op = rnd(4);
      if (op === 0) await p.keyboard.press('Backspace');
      else if (op === 1) await p.keyboard.press('Delete');
      else await p.keyboard.type(i ? 'ab' : 'ΣΩ', { delay: 2 });
    }
  }));
  let last;
  await waitFor(async () => {
    const server = (await apiAs(c, aliceTok, 'GET', `/projects/${project}/doc?path=${encodeURIComponent(PY)}`)).json().text;
    const states = await Promise.all([teacher, alice].map(async (p) => (await editors(p)).find((e) => e.path === PY)));
    last = { server, states };
    return states.every((s) => s && s.unsent === 0 && s.text === server);
  }, { timeout: 20000, interval: 200, what: 'two editors converge' }).catch((e) => { throw new Error(`${e.message}\n${JSON.stringify(last)}`); });
  for (const p of [teacher, alice]) await p.locator(`.tab[data-path="${PY}"]`).locator('xpath=..').getByRole('button', { name: `Close ${PY}` }).click();
});

test('remote cursors appear with their users\' names', async () => {
  const { teacher, alice, bob } = pages;
  await caretAtLineEnd(teacher, 1);
  await caretAtLineEnd(bob, 3);
  await waitFor(async () => {
    const e = (await editors(alice)).find((x) => x.path === FILE);
    return e && e.cursors.includes('Teacher') && e.cursors.includes('Bob');
  }, { what: 'remote cursors at alice' });
  const labels = await alice.locator('.cm-remote-name').allTextContents();
  assert.ok(labels.includes('Teacher') && labels.includes('Bob'), JSON.stringify(labels));
  await shot(alice, 'ide-cursors');
});

test('follow mode: the teacher follows Alice into her project and from file to file, with her cursor', async () => {
  const { teacher, alice } = pages;
  const PY = 'notes/plan.py';
  // From the teacher's own project: following Alice goes to her project and the file she is in.
  await teacher.goto(`${c.url}/lessons/${seed.lessons[0].id}`);
  // The page's title reads "<lesson> — my project" once the access listing is in,
  // which also fills the Follow list (the side heading "Who can open my project" is
  // there from the start, so the level matters).
  await teacher.getByRole('heading', { level: 1, name: /— my project$/ }).waitFor();
  await teacher.getByLabel('Follow').selectOption({ label: 'Alice' });
  await teacher.waitForURL(`${c.url}/projects/${project}?follow=*`);
  await teacher.locator(`.tab[data-path="${FILE}"][aria-selected=true]`).waitFor();
  await alice.getByRole('button', { name: `Open ${PY}` }).click();
  await alice.locator('.cm-content').getByText('steps').first().waitFor();
  await alice.locator('.cm-content .cm-line').nth(1).click();
  await alice.keyboard.press('End');
  await teacher.locator(`.tab[data-path="${PY}"][aria-selected=true]`).waitFor();
  await teacher.locator('.cm-remote-name', { hasText: 'Alice' }).waitFor();
  await shot(teacher, 'ide-follow');
  // Back to main.c: the teacher's editor follows.
  await alice.locator(`.tab[data-path="${FILE}"]`).click();
  await alice.locator('.cm-content .cm-line').nth(2).click();
  await teacher.locator(`.tab[data-path="${FILE}"][aria-selected=true]`).waitFor();
  await teacher.getByLabel('Follow').selectOption({ label: 'nobody' });
});

test('a cohort-stream restart while typing: the indicator reads reconnecting, nothing typed is lost, pages catch up', async () => {
  const { teacher, alice } = pages;
  await caretAtLineEnd(alice, 2);
  const sawNotLive = alice.waitForFunction(() => {
    const s = document.querySelector('[data-testid=indicator]')?.getAttribute('data-state');
    return s !== 'live' && s;
  }, null, { timeout: 15000, polling: 20 });
  const typing = (async () => {
    for (let k = 0; k < 20; k++) {
      await alice.keyboard.type('W', { delay: 0 });
      await sleep(60);
    }
  })();
  await c.restartStreamer(0);
  assert.equal(await (await sawNotLive).jsonValue(), 'reconnecting');
  await typing;
  await alice.getByTestId('indicator').and(alice.locator('[data-state=live]')).waitFor({ timeout: 15000 });
  const text = await converged([teacher, alice, pages.bob], 'after the restart');
  assert.equal([...text].filter((ch) => ch === 'W').length, 20);
});

test('edits typed offline are kept, counted in the indicator, and sent on reconnect', async () => {
  const { teacher, alice } = pages;
  await caretAtLineEnd(alice, 1);
  await alice.context().setOffline(true);
  await alice.getByTestId('indicator').and(alice.locator('[data-state=offline]')).waitFor();
  await alice.keyboard.type('OOOOO', { delay: 20 });
  await waitFor(async () => /offline — 5 unsent edits/.test(await alice.getByTestId('indicator').textContent()),
    { what: 'the unsent count in the indicator' });
  await shot(alice, 'ide-offline');
  await alice.context().setOffline(false);
  await alice.getByTestId('indicator').and(alice.locator('[data-state=live]')).waitFor({ timeout: 15000 });
  const text = await converged([teacher, alice, pages.bob], 'after going back online');
  assert.equal([...text].filter((ch) => ch === 'O').length, 5);
});

test('revoke: alice removes bob\'s grant; bob\'s page loses the project live', async () => {
  const { alice, bob } = pages;
  await alice.getByRole('button', { name: 'Share…' }).click();
  const dlg = alice.getByRole('dialog', { name: 'Share this project' });
  await dlg.getByRole('button', { name: 'Remove the grant for Bob' }).click();
  await dlg.getByText('Bob is back to the default rules.').waitFor();
  await dlg.getByRole('button', { name: 'Close' }).click();
  await bob.getByText('Your access to this project was revoked.').waitFor();
  const tok = await token(c, 'bob');
  assert.equal((await apiAs(c, tok, 'GET', `/projects/${project}/tree`)).status, 403);
  for (const p of Object.values(pages)) assert.deepEqual(p.problems, []);
});
