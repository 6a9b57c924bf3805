// Sign-in, my courses, course and IDE pages as a teacher and a student; the
// file tree updates live across contexts; user text is shown as text; the
// room shell and the API reference render. Screenshots go to var/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, demoCluster, token, apiAs, signedInPage, shot, waitFor } from './lib.mjs';

const XSS = '<img src=x onerror=alert(1)>';
let c, seed, browser, teacher, alice;

before(async () => {
  ({ c, seed } = await demoCluster());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await c?.stop();
});

test('sign in as teacher and as alice in two contexts; wrong password is refused', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${c.url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Login').fill('teacher');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'invalid_credentials' }).waitFor();
  await ctx.close();

  teacher = await signedInPage(browser, c, 'teacher');
  alice = await signedInPage(browser, c, 'alice');
  assert.equal(await teacher.getByTestId('whoami').textContent(), 'Teacher');
  assert.equal(await alice.getByTestId('whoami').textContent(), 'Alice');
  await teacher.getByRole('link', { name: 'Intro to C' }).waitFor();
  await shot(teacher, 'courses-teacher');
});

test('course page: lessons in order, roster; a teacher adds, renames, reorders and deletes a lesson', async () => {
  await teacher.getByRole('link', { name: 'Intro to C' }).click();
  await teacher.getByRole('heading', { name: 'Intro to C' }).waitFor();
  const lessons = teacher.getByRole('list', { name: 'Lessons' }).locator(':scope > li a.title');
  // The heading comes first; the lessons arrive with their own request.
  await waitFor(async () => JSON.stringify(await lessons.allTextContents()) === JSON.stringify(['Hello, world', 'Pointers']),
    { what: 'the two demo lessons, in order' });
  const roster = teacher.getByRole('list', { name: 'Participants' });
  await roster.getByText('Carol', { exact: true }).waitFor();

  await teacher.getByLabel('New lesson name').fill('Strings');
  await teacher.getByRole('button', { name: 'Add lesson' }).click();
  await waitFor(async () => (await lessons.allTextContents()).length === 3, { what: 'new lesson' });
  await teacher.getByRole('button', { name: 'Move Strings up' }).click();
  await waitFor(async () => JSON.stringify(await lessons.allTextContents()) === JSON.stringify(['Hello, world', 'Strings', 'Pointers']),
    { what: 'reordered lessons' });
  await teacher.getByRole('button', { name: 'Rename Strings' }).click();
  await teacher.getByRole('dialog').getByLabel('Lesson name').fill('Strings and arrays');
  await teacher.getByRole('button', { name: 'Rename', exact: true }).click();
  await teacher.getByRole('link', { name: 'Strings and arrays' }).waitFor();
  await shot(teacher, 'course-teacher');
  await teacher.getByRole('button', { name: 'Delete Strings and arrays' }).click();
  await teacher.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await waitFor(async () => JSON.stringify(await lessons.allTextContents()) === JSON.stringify(['Hello, world', 'Pointers']),
    { what: 'lesson deleted' });

  // The student sees the lessons but no teacher controls.
  await alice.getByRole('link', { name: 'Intro to C' }).click();
  await alice.getByRole('link', { name: 'Hello, world' }).waitFor();
  assert.equal(await alice.getByRole('button', { name: /^Delete / }).count(), 0);
  await shot(alice, 'course-student');
});

test('a teacher uploads a template with progress; a student\'s new project starts from it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-tpl-'));
  try {
    mkdirSync(path.join(dir, 'tpl/data'), { recursive: true });
    writeFileSync(path.join(dir, 'tpl/pointers.c'), '#include <stdio.h>\nint main(void) { int x = 1; int *p = &x; return *p - 1; }\n');
    writeFileSync(path.join(dir, 'tpl/data/notes.txt'), 'Pointers hold addresses.\n');
    // Incompressible padding so the upload takes a few progress events.
    writeFileSync(path.join(dir, 'tpl/data/blob.bin'), Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 7919 + (i >> 3) * 31) & 255)));
    const archive = path.join(dir, 'pointers.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', path.join(dir, 'tpl'), '.']);
    await teacher.goto(`${c.url}/courses/${seed.course.id}`);
    await teacher.getByLabel('Template archive for Pointers').setInputFiles(archive);
    await teacher.getByRole('button', { name: 'Upload the template for Pointers' }).click();
    await teacher.getByText('Template for Pointers uploaded.').waitFor();
    assert.equal(await teacher.getByRole('progressbar', { name: 'Upload progress for Pointers' }).getAttribute('value'), '100');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await alice.goto(`${c.url}/lessons/${seed.lessons[1].id}`);
  await alice.locator('.tree li[data-path="pointers.c"]').waitFor();
  await alice.locator('.tree li[data-path="data/notes.txt"]').waitFor();
  await alice.locator('.tree li[data-path="data/blob.bin"]').getByText('binary').waitFor();
});

test('a teacher creates a course and sees its join code; a student joins with it', async () => {
  await teacher.goto(`${c.url}/`);
  await teacher.getByLabel('Course name').fill('Algorithms');
  await teacher.getByRole('button', { name: 'Create' }).click();
  const code = await teacher.getByTestId('join-code').textContent();
  assert.match(code, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
  await teacher.getByRole('link', { name: 'Algorithms' }).waitFor();

  await alice.goto(`${c.url}/`);
  await alice.getByLabel('Join code').fill(code);
  await alice.getByLabel('Nickname in the course').fill(XSS);
  await alice.getByRole('button', { name: 'Join' }).click();
  await alice.getByRole('link', { name: 'Algorithms' }).waitFor();
  // The nickname is shown literally, as text.
  const nick = alice.locator('.cards li', { hasText: 'Algorithms' });
  assert.ok((await nick.textContent()).includes(XSS));
  await alice.getByRole('link', { name: 'Algorithms' }).click();
  await alice.getByRole('list', { name: 'Participants' }).locator('.nick', { hasText: XSS }).waitFor();
  assert.equal(await alice.locator('main img:not(.cm-widgetBuffer)').count(), 0, 'no img element from user text');
  assert.deepEqual(alice.problems, []);
});

test('IDE: the tree shows files; a rename in one context appears live in the other; hostile names are text', async () => {
  // Alice's project in lesson 1, with files made through the API.
  const tok = await token(c, 'alice');
  const proj = (await apiAs(c, tok, 'GET', `/lessons/${seed.lessons[0].id}/project`)).json().project;
  const put = async (p, body, q = '') => {
    const r = await apiAs(c, tok, 'PUT', `/projects/${proj.id}/file?path=${encodeURIComponent(p)}&parents=1${q}`, body);
    assert.equal(r.status, 201, r.body);
  };
  await put('src/main.c', '#include <stdio.h>\n\nint main(void)\n{\n    printf("hello\\n");\n    return 0;\n}\n');
  await put('README.md', 'Hello\n');
  await put('img/logo.bin', Buffer.from([0, 1, 2, 255, 0]), '&binary=1');
  await put(`${XSS}.c`, '/* x */\n');

  await alice.goto(`${c.url}/lessons/${seed.lessons[0].id}`);
  await teacher.goto(`${c.url}/projects/${proj.id}`);
  for (const p of [alice, teacher]) {
    await p.getByTestId('indicator').and(p.locator('[data-state=live]')).waitFor();
    await p.locator('.tree li[data-path="src/main.c"]').waitFor();
  }
  // Binary files are listed but cannot be opened.
  const bin = alice.locator('.tree li[data-path="img/logo.bin"]');
  await bin.waitFor();
  assert.equal(await bin.getByRole('button', { name: /^Open / }).count(), 0);
  // The hostile name is text.
  const xssRow = alice.locator('.tree li').filter({ hasText: XSS });
  await xssRow.waitFor();
  assert.equal(await alice.locator('main img:not(.cm-widgetBuffer)').count(), 0);
  assert.equal(await teacher.locator('main img:not(.cm-widgetBuffer)').count(), 0);

  // Alice opens main.c: its text shows with C highlighting.
  await alice.getByRole('button', { name: 'Open src/main.c' }).click();
  await alice.locator('.cm-content').getByText('printf').waitFor();
  await waitFor(async () => (await alice.locator('.cm-content span[class]').count()) > 0, { what: 'highlighted tokens' });
  await shot(alice, 'ide-student');

  // The teacher renames it; Alice's tree follows live (SSE file event).
  await teacher.getByRole('button', { name: 'Rename or move src/main.c' }).click();
  await teacher.getByLabel('New path').fill('src/hello.c');
  await teacher.getByRole('button', { name: 'Rename', exact: true }).click();
  await alice.locator('.tree li[data-path="src/hello.c"]').waitFor();
  assert.equal(await alice.locator('.tree li[data-path="src/main.c"]').count(), 0);
  // The open tab follows the rename.
  await alice.locator('.tab[data-path="src/hello.c"]').waitFor();

  // A new folder and file from Alice appear for the teacher; a delete too.
  await alice.getByRole('button', { name: 'New folder' }).click();
  await alice.getByLabel('Path in the project').fill('lib');
  await alice.getByRole('button', { name: 'Create' }).click();
  await teacher.locator('.tree li[data-path="lib"][data-kind="dir"]').waitFor();
  await alice.getByRole('button', { name: 'Delete README.md' }).click();
  await alice.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await waitFor(async () => (await teacher.locator('.tree li[data-path="README.md"]').count()) === 0, { what: 'delete seen live' });
  await shot(teacher, 'ide-teacher');
  // The download links answer archives (with the page's session cookie).
  for (const [name, magic] of [['Download .zip', 'PK'], ['Download .tar.gz', '\x1f\x8b']]) {
    const href = await teacher.getByRole('link', { name }).getAttribute('href');
    const r = await teacher.request.get(`${c.url}${href}`);
    assert.equal(r.status(), 200, name);
    assert.equal((await r.body()).subarray(0, 2).toString('latin1'), magic, name);
  }
  await teacher.setViewportSize({ width: 390, height: 844 });
  await shot(teacher, 'ide-narrow');
  await teacher.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(alice.problems, []);
  assert.deepEqual(teacher.problems, []);
});

/**
 * Whether cohort-stream publishes presence: a connection with presence=<lesson>
 * makes a `presence` event appear on the lesson's stream within 8 s (a busy machine is slow).
 */
async function presencePublished(lesson) {
  // Bob is never online in this file: his first connection must publish `online`.
  const [tt, ta] = [await token(c, 'teacher'), await token(c, 'bob')];
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 8000);
  let seen = false;
  try {
    const watch = await fetch(`${c.url}/stream/events?streams=lesson:${lesson}`, { headers: { Authorization: `Bearer ${tt}` }, signal: ctl.signal });
    const reader = watch.body.getReader();
    const me = await fetch(`${c.url}/api/v1/lessons/${lesson}/project`, { headers: { Authorization: `Bearer ${ta}` } });
    const pid = (await me.json()).project.id;
    await reader.read(); // the start position block
    const probe = fetch(`${c.url}/stream/events?streams=project:${pid}&presence=${lesson}&client=probe1`,
      { headers: { Authorization: `Bearer ${ta}` }, signal: ctl.signal }).catch(() => {});
    let text = '';
    while (!seen) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      seen = text.includes('"type":"presence"');
    }
    await probe;
  } catch { /* aborted: nothing seen in time */ }
  clearTimeout(timer);
  ctl.abort();
  return seen;
}

test('course roster: a student who opens a lesson\'s IDE shows as online in that lesson, then offline', async (t) => {
  if (!(await presencePublished(seed.lessons[1].id))) {
    t.skip('cohort-stream publishes no presence events on this server yet');
    return;
  }
  await teacher.goto(`${c.url}/courses/${seed.course.id}`);
  const row = teacher.getByRole('list', { name: 'Participants' }).locator('li', { hasText: 'Carol' });
  await row.waitFor();
  // Give the course page's event stream a moment to be established.
  await teacher.waitForTimeout(1000);
  const carol = await signedInPage(browser, c, 'carol');
  const ctok = await token(c, 'carol');
  const cproj = (await apiAs(c, ctok, 'GET', `/lessons/${seed.lessons[0].id}/project`)).json().project.id;
  assert.equal((await apiAs(c, ctok, 'PUT', `/projects/${cproj}/file?path=lab.c`, 'int x;\n')).status, 201);
  await carol.goto(`${c.url}/lessons/${seed.lessons[0].id}`);
  await row.and(teacher.locator('[data-online=true]')).waitFor();
  await row.locator('.where', { hasText: 'Hello, world' }).waitFor();
  // The file she opens is where she is (PUT .../presence, a `moved` event).
  await carol.getByRole('button', { name: 'Open lab.c' }).click();
  await row.locator('.where', { hasText: 'Hello, world · lab.c' }).waitFor();
  // A course page opened now knows it from the roster call.
  await teacher.reload();
  await row.and(teacher.locator('[data-online=true]')).waitFor();
  await row.locator('.where', { hasText: 'lab.c' }).waitFor();
  await shot(teacher, 'course-presence');
  await carol.context().close();
  await row.and(teacher.locator('[data-online=false]')).waitFor({ timeout: 40000 });
});

test('the API reference renders the OpenAPI document', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${c.url}/api-docs/`);
  await page.locator('.swagger-ui .opblock-summary-path', { hasText: '/api/v1/sessions' }).first().waitFor({ timeout: 20000 });
  await shot(page, 'api-docs');
  await ctx.close();
});

test('sign out returns to the sign-in page and the session is gone', async () => {
  await teacher.goto(`${c.url}/`);
  await teacher.getByRole('button', { name: 'Sign out' }).click();
  await teacher.getByRole('heading', { name: 'Sign in' }).waitFor();
  await teacher.goto(`${c.url}/courses/1`);
  await teacher.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(teacher.url(), /\/signin\?next=/);
});
