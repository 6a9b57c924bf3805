// The tree cache (docs/files.md, "The tree"): cohort-api answers an unchanged
// tree from its per-process cache, and every kind of change — whole-file
// writes, live edits, creates, renames, deletes — is in the very next
// listing, whichever worker thread answers it. Each listing is compared with
// what the change must have made, not with an earlier answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';
import { api, user } from './t1099-api-people-helpers.mjs';

let c, owner, project, base;
const q = encodeURIComponent;

before(async () => {
  c = await startCluster({ streamers: 0, env: { COHORT_API_THREADS: '4' } });
  owner = await user(c, 'alice');
  await user(c, 'tess');
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Course 1');
  const po = (await c.cliJson('course-join', '--user', 'alice', '--code', made.join_code, '--nickname', 'Alice')).participant.id;
  const lesson = (await c.cliJson('lesson-create', made.course.id, 'Lesson 1')).lesson.id;
  project = (await c.cliJson('project-ensure', lesson, po)).project.id;
  base = `/api/v1/projects/${project}`;
});
after(async () => { await c?.stop(); });

async function put(p, text, ifMatch) {
  const headers = { 'Content-Type': 'text/plain', Authorization: `Bearer ${owner.token}` };
  if (ifMatch) headers['If-Match'] = ifMatch;
  const r = await curl(`${c.url}${base}/file?path=${q(p)}&parents=1`, { method: 'PUT', headers, body: text });
  assert.ok(r.status === 201 || r.status === 200, `${r.status} ${r.body}`);
}
// The tree as {path: "kind size version"}; several times, so that several
// worker threads (each may hold the cached answer) are asked.
async function tree(dir) {
  let seen;
  for (let i = 0; i < 6; i++) {
    const r = await api(c, 'GET', `${base}/tree${dir ? `?dir=${q(dir)}&recursive=1` : ''}`, { token: owner.token });
    assert.equal(r.status, 200, r.body);
    const m = Object.fromEntries(r.json().entries.map((e) => [e.path, e.kind === 'dir' ? 'dir' : `file ${e.size} ${e.version}`]));
    if (seen) assert.deepEqual(m, seen, 'the same tree from every thread');
    seen = m;
  }
  return seen;
}

test('every change is in the next listing; an unchanged tree is answered the same', async () => {
  assert.deepEqual(await tree(), {});
  await put('a.txt', 'hello\n');
  assert.deepEqual(await tree(), { 'a.txt': 'file 6 1' });
  // A whole-file write: new size and version.
  await put('a.txt', 'hello, world\n', '"1"');
  assert.deepEqual(await tree(), { 'a.txt': 'file 13 2' });
  // A live edit (REST push): new size and version, nothing else.
  const r = await api(c, 'POST', `${base}/doc/updates?path=a.txt`, {
    token: owner.token, body: { version: 2, updates: [{ clientID: 'c1', changes: [12, [0, '!'], 1] }] },
  });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(await tree(), { 'a.txt': 'file 14 3' });
  // Creates with parents, a subdirectory listing, a rename, a delete.
  await put('src/main.c', 'int main(void) { return 0; }\n');
  assert.deepEqual(await tree(), { 'a.txt': 'file 14 3', src: 'dir', 'src/main.c': 'file 29 1' });
  assert.deepEqual(await tree('src'), { 'src/main.c': 'file 29 1' });
  let m = await api(c, 'POST', `${base}/move`, { token: owner.token, body: { from: 'src/main.c', to: 'src/hello.c' } });
  assert.ok(m.status === 200 || m.status === 201, m.body);
  assert.deepEqual(await tree('src'), { 'src/hello.c': 'file 29 1' });
  assert.deepEqual(await tree(), { 'a.txt': 'file 14 3', src: 'dir', 'src/hello.c': 'file 29 1' });
  m = await api(c, 'DELETE', `${base}/file?path=src`, { token: owner.token });
  assert.ok(m.status === 200 || m.status === 204, m.body);
  assert.deepEqual(await tree(), { 'a.txt': 'file 14 3' });
  // A failed write changes nothing.
  const stale = await curl(`${c.url}${base}/file?path=a.txt`, {
    method: 'PUT', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${owner.token}`, 'If-Match': '"1"' }, body: 'x',
  });
  assert.equal(stale.status, 412, stale.body);
  assert.deepEqual(await tree(), { 'a.txt': 'file 14 3' });
});

test('a listing after Redis lost the generation (FLUSHALL) is not served from the cache', async () => {
  await put('b.txt', 'bbb');
  assert.deepEqual(await tree(), { 'a.txt': 'file 14 3', 'b.txt': 'file 3 1' });
  await c.redis('FLUSHALL');
  assert.deepEqual(await tree(), {});
});
