// Live editing over REST through nginx (docs/protocol.md section 9): get,
// push with stepwise rebase and duplicate skipping, pull and long-poll,
// update events, whole-file writes in the same history, CRLF files, cursors,
// the sync proof, and bad input that changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startCluster, curl } from './lib/cluster.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

let c, owner, reader, project, base;
const q = encodeURIComponent;

before(async () => {
  c = await startCluster({ streamers: 0, env: { COHORT_FILES_MAX_FILE: '65536' } });
  owner = await user(c, 'alice');
  reader = await user(c, 'bob');
  await user(c, 'tess');
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Course 1');
  const po = (await c.cliJson('course-join', '--user', 'alice', '--code', made.join_code, '--nickname', 'Alice A')).participant.id;
  const pr = (await c.cliJson('course-join', '--user', 'bob', '--code', made.join_code, '--nickname', 'bob')).participant.id;
  const lesson = (await c.cliJson('lesson-create', made.course.id, 'Lesson 1')).lesson.id;
  project = (await c.cliJson('project-ensure', lesson, po)).project.id;
  await c.cliJson('grant', project, pr, 'r', '--by', po);
  base = `/api/v1/projects/${project}`;
});
after(async () => { await c?.stop(); });

async function create(p, text, token = owner.token) {
  const r = await curl(`${c.url}${base}/file?path=${q(p)}`, {
    method: 'PUT', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${token}` }, body: text,
  });
  assert.equal(r.status, 201, r.body);
  return r.json();
}
const doc = (p, u = owner) => api(c, 'GET', `${base}/doc?path=${q(p)}`, { token: u.token });
const push = (p, version, updates, u = owner) =>
  api(c, 'POST', `${base}/doc/updates?path=${q(p)}`, { token: u.token, body: { version, updates } });
const pull = (p, since, extra = '', u = owner) =>
  api(c, 'GET', `${base}/doc/updates?path=${q(p)}&since=${since}${extra}`, { token: u.token });
const sha = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

test('get, push, pull: versions, text, sum', async () => {
  await create('a.txt', 'hello\n');
  let r = await doc('a.txt');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual({ ...r.json(), cursors: undefined }, { path: 'a.txt', version: 1, text: 'hello\n', sum: sha('hello\n'), eol: 'lf', cursors: undefined });
  r = await push('a.txt', 1, [{ clientID: 'c1', changes: [5, [0, ' world'], 1] }]);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { version: 2, accepted: 1, skipped: 0 });
  r = await doc('a.txt');
  assert.equal(r.json().text, 'hello world\n');
  assert.equal(r.json().sum, sha('hello world\n'));
  // Version 1 is the file's creation, not an update: pulling from before it is 410.
  expectProblem(assert, await pull('a.txt', 0), 410, 'version_gone');
  r = await pull('a.txt', 1);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { version: 2, updates: [
    { version: 2, clientID: 'c1', changes: [5, [0, ' world'], 1] },
  ] });
  // The raw file is the same text.
  r = await api(c, 'GET', `${base}/file?path=a.txt`, { token: owner.token });
  assert.equal(r.body, 'hello world\n');
  assert.equal(r.headers.etag, '"2"');
});

test('stepwise rebase: ab -> WX, not XW', async () => {
  await create('g.txt', 'ab');
  let r = await push('g.txt', 1, [{ clientID: 'del', changes: [[2]] }]);
  assert.deepEqual(r.json(), { version: 2, accepted: 1, skipped: 0 });
  r = await push('g.txt', 2, [{ clientID: 'typer', changes: [[0, 'W']] }]);
  assert.deepEqual(r.json(), { version: 3, accepted: 1, skipped: 0 });
  // Based on version 1: replace "b" by "X".
  r = await push('g.txt', 1, [{ clientID: 'rep', changes: [1, [1, 'X']] }]);
  assert.deepEqual(r.json(), { version: 4, accepted: 1, skipped: 0 });
  assert.equal((await doc('g.txt')).json().text, 'WX');
});

test('ties at one position keep every character once', async () => {
  await create('t.txt', '');
  const rs = await Promise.all(['A', 'B', 'C', 'D'].map((ch) => push('t.txt', 1, [{ clientID: `t${ch}`, changes: [[0, ch]] }])));
  for (const r of rs) assert.equal(r.status, 200, r.body);
  const text = (await doc('t.txt')).json().text;
  assert.equal([...text].sort().join(''), 'ABCD');
  assert.equal((await doc('t.txt')).json().version, 5);
});

test('re-pushed updates are skipped, not applied twice', async () => {
  await create('r.txt', 'x');
  const u1 = { clientID: 'me', changes: [1, [0, '1']] };
  const u2 = { clientID: 'me', changes: [2, [0, '2']] };
  let r = await push('r.txt', 1, [u1, u2]);
  assert.deepEqual(r.json(), { version: 3, accepted: 2, skipped: 0 });
  r = await push('r.txt', 1, [u1, u2]);
  assert.deepEqual(r.json(), { version: 3, accepted: 0, skipped: 2 });
  // Someone else typed meanwhile; a retry of the second one only after a new one.
  r = await push('r.txt', 3, [{ clientID: 'other', changes: [[0, '>'], 3] }]);
  assert.equal(r.json().version, 4);
  const u3 = { clientID: 'me', changes: [3, [0, '3']] };
  r = await push('r.txt', 1, [u1, u2, u3]);
  assert.deepEqual(r.json(), { version: 5, accepted: 1, skipped: 2 });
  assert.equal((await doc('r.txt')).json().text, '>x123');
});

test('long-poll waits for the next update', async () => {
  await create('lp.txt', '');
  const t0 = Date.now();
  const waiting = pull('lp.txt', 1, '&wait=10');
  await new Promise((res) => setTimeout(res, 300));
  await push('lp.txt', 1, [{ clientID: 'lp', changes: [[0, 'z']] }]);
  const r = await waiting;
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().updates.length, 1);
  assert.ok(Date.now() - t0 < 5000);
  const e = await pull('lp.txt', 2, '&wait=1');
  assert.deepEqual(e.json(), { version: 2, updates: [] });
});

test('update events on the project stream, whole-file writes in the same history', async () => {
  await create('e.txt', 'one');
  await push('e.txt', 1, [{ clientID: 'ev', changes: [3, [0, '!']] }]);
  let r = await curl(`${c.url}${base}/file?path=e.txt`, {
    method: 'PUT', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${owner.token}`, 'If-Match': '"2"' }, body: 'two',
  });
  assert.equal(r.status, 200, r.body);
  r = await pull('e.txt', 1);
  assert.deepEqual(r.json().updates, [
    { version: 2, clientID: 'ev', changes: [3, [0, '!']] },
    { version: 3, clientID: 'rest', changes: [[4, 'two']] },
  ]);
  const raw = await c.redisRaw('XRANGE', `{p:${project}}:events`, '-', '+');
  const evs = raw.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .filter((e) => e.type === 'update' && e.file === 'e.txt');
  assert.deepEqual(evs.map((e) => [e.version, e.data.clientID]), [[2, 'ev'], [3, 'rest']]);
  assert.equal(evs[0].actor.user, 'alice');
});

test('CRLF files are edited with \\n and downloaded with \\r\\n', async () => {
  await create('w.txt', 'l1\r\nl2\r\n');
  let r = await doc('w.txt');
  assert.equal(r.json().text, 'l1\nl2\n');
  assert.equal(r.json().eol, 'crlf');
  r = await push('w.txt', 1, [{ clientID: 'crlf', changes: [3, [0, 'new', ''], 3] }]);
  assert.equal(r.status, 200, r.body);
  r = await api(c, 'GET', `${base}/file?path=w.txt`, { token: owner.token });
  assert.equal(r.body, 'l1\r\nnew\r\nl2\r\n');
});

test('cursors are stored, published and returned on open', async () => {
  await create('k.txt', 'abcdef');
  let r = await api(c, 'PUT', `${base}/doc/cursor?path=k.txt`, { token: reader.token, body: { version: 1, clientID: 'kb', ranges: [{ anchor: 1, head: 3 }], main: 0 } });
  assert.equal(r.status, 204, r.body);
  r = await doc('k.txt');
  const cur = r.json().cursors;
  assert.equal(cur.length, 1);
  assert.equal(cur[0].name, 'bob');
  assert.deepEqual(cur[0].ranges, [{ anchor: 1, head: 3 }]);
  assert.match(cur[0].color, /^#[0-9a-f]{6}$/);
  r = await api(c, 'PUT', `${base}/doc/cursor?path=k.txt`, { token: reader.token, body: { version: 1, clientID: 'kb', ranges: [{ anchor: 1, head: 30 }], main: 0 } });
  expectProblem(assert, r, 422, 'out_of_range');
});

test('sync proof: sum at the current version, 409 otherwise', async () => {
  await create('s.txt', 'sum me');
  let r = await api(c, 'GET', `${base}/doc/sum?path=s.txt&version=1`, { token: reader.token });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { version: 1, sum: sha('sum me') });
  await push('s.txt', 1, [{ clientID: 's1', changes: [6, [0, '!']] }]);
  r = await api(c, 'GET', `${base}/doc/sum?path=s.txt&version=1`, { token: reader.token });
  expectProblem(assert, r, 409, 'conflict');
});

test('bad pushes are refused and change nothing', async () => {
  await create('b.txt', 'a😀b');
  const cases = [
    [{ version: 1, updates: [{ clientID: 'x', changes: [5] }] }, 422, 'out_of_range'],          // wrong length
    [{ version: 1, updates: [{ clientID: 'x', changes: [2, [0, 'q'], 2] }] }, 422, 'out_of_range'], // inside a surrogate pair
    [{ version: 9, updates: [{ clientID: 'x', changes: [4] }] }, 422, 'out_of_range'],          // future version
    [{ version: 1, updates: [{ clientID: 'x', changes: [4, [0, 'a\rb']] }] }, 422, 'invalid_field'],
    [{ version: 1, updates: [{ clientID: 'x', changes: [-1] }] }, 422, 'invalid_field'],
    [{ version: 1, updates: [{ clientID: 'bad id!', changes: [4] }] }, 422, 'invalid_field'],
    [{ version: 1, updates: [{ clientID: 'rest', changes: [4] }] }, 422, 'invalid_field'],
    [{ version: 1, updates: [] }, 422, 'invalid_field'],
    [{ version: 1 }, 422, 'invalid_field'],
    [{ version: 1, updates: [{ clientID: 'x', changes: [4, [0, 'y'.repeat(70000)]] }] }, 413, 'limit_exceeded'],
  ];
  for (const [body, status, code] of cases) {
    const r = await api(c, 'POST', `${base}/doc/updates?path=b.txt`, { token: owner.token, body });
    expectProblem(assert, r, status, code, JSON.stringify(body).slice(0, 80));
  }
  let r = await api(c, 'POST', `${base}/doc/updates?path=b.txt`, { token: owner.token, body: '{"version":1,' });
  expectProblem(assert, r, 400, 'malformed_json');
  // An escaped lone surrogate names no character: refused, not stored as U+FFFD.
  for (const esc of ['\\ud83d', '\\ude00', '\\ude00\\ud83d']) {
    r = await api(c, 'POST', `${base}/doc/updates?path=b.txt`, { token: owner.token, body: `{"version":1,"updates":[{"clientID":"x","changes":[4,[0,"${esc}"]]}]}` });
    expectProblem(assert, r, 400, 'malformed_json', esc);
  }
  r = await api(c, 'POST', `${base}/doc/updates?path=b.txt`, { token: owner.token, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), headers: { 'Content-Type': 'application/json' } });
  expectProblem(assert, r, 400, 'invalid_utf8');
  r = await push('b.txt', 1, [{ clientID: 'ro', changes: [4, [0, '!']] }], reader);
  expectProblem(assert, r, 403, 'forbidden');
  r = await push('nope.txt', 1, [{ clientID: 'x', changes: [0] }]);
  expectProblem(assert, r, 404, 'not_found');
  r = await doc('b.txt');
  assert.deepEqual([r.json().version, r.json().text], [1, 'a😀b']);
});

test('binary files are not editable live; old versions are gone after trimming', async () => {
  let r = await curl(`${c.url}${base}/file?path=bin.dat&binary=1`, {
    method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${owner.token}` }, body: Buffer.from([0, 1, 2, 255]),
  });
  assert.equal(r.status, 201, r.body);
  r = await doc('bin.dat');
  expectProblem(assert, r, 409, 'binary_file');
});
