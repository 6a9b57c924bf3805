// The workspace routes through nginx: tree, read, create / replace with
// If-Match, directories, move, delete, archive download; permissions
// (read-only grantee 403 on writes, outsider 404); hostile paths (422);
// binary round trip; limits (413); file events on the project stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCluster, curl } from './lib/cluster.mjs';
import { api, user } from './t1099-api-people-helpers.mjs';

let c, owner, reader, outsider, project, base;

before(async () => {
  c = await startCluster({ streamers: 0, env: { COHORT_FILES_MAX_FILE: '4096', COHORT_FILES_MAX_ENTRIES: '50' } });
  owner = await user(c, 'alice');
  reader = await user(c, 'bob');
  outsider = await user(c, 'oscar');
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Course 1').catch(async () => {
    await user(c, 'tess');
    return c.cliJson('course-create', '--owner', 'tess', 'Course 1');
  });
  const po = (await c.cliJson('course-join', '--user', 'alice', '--code', made.join_code, '--nickname', 'alice')).participant.id;
  const pr = (await c.cliJson('course-join', '--user', 'bob', '--code', made.join_code, '--nickname', 'bob')).participant.id;
  await c.cliJson('course-create', '--owner', 'oscar', 'Course 2');
  const lesson = (await c.cliJson('lesson-create', made.course.id, 'Lesson 1')).lesson.id;
  project = (await c.cliJson('project-ensure', lesson, po)).project.id;
  await c.cliJson('grant', project, pr, 'r', '--by', po);
  base = `/api/v1/projects/${project}`;
});
after(async () => { await c?.stop(); });

const q = encodeURIComponent;
const as = (u) => ({ token: u.token });
async function put(p, body, { token = owner.token, headers = {}, extra = '' } = {}) {
  // Raw bytes (a Buffer stays binary), not the JSON the api helper sends.
  const h = { 'Content-Type': 'text/plain', Authorization: `Bearer ${token}`, ...headers };
  const r = await curl(`${c.url}${base}/file?path=${q(p)}${extra}`, { method: 'PUT', headers: h, body });
  r.problem = () => r.json();
  return r;
}
const get = (p, u = owner) => api(c, 'GET', `${base}/file?path=${q(p)}`, as(u));

async function fileEvents() {
  const out = await c.redisRaw('XRANGE', `{p:${project}}:events`, '-', '+');
  return out;
}

test('create, read, replace with If-Match, stale and missing If-Match', async () => {
  let r = await put('hello.txt', 'hi\n');
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json().version, 1);
  assert.equal(r.headers.etag, '"1"');
  r = await get('hello.txt');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hi\n');
  assert.equal(r.headers.etag, '"1"');
  assert.match(r.headers['content-type'], /^text\/plain/);
  r = await put('hello.txt', 'again\n');
  assert.equal(r.status, 428, r.body);
  assert.equal(r.json().code, 'precondition_required');
  r = await put('hello.txt', 'v2\n', { headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().version, 2);
  r = await put('hello.txt', 'lost\n', { headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 412, r.body);
  assert.equal((await get('hello.txt')).body, 'v2\n');
  r = await put('nothere.txt', 'x', { headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 412, r.body);
  r = await get('nothere.txt');
  assert.equal(r.status, 404);
  r = await put('bad.txt', Buffer.from([0x66, 0xff, 0xfe]));
  assert.equal(r.status, 400, r.body);
});

test('directories, tree, move keeps src2 alone, replace, delete', async () => {
  let r = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: { path: 'src' } });
  assert.equal(r.status, 201, r.body);
  r = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: { path: 'src' } });
  assert.equal(r.status, 409, r.body);
  r = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: { path: 'src2/deep' } });
  assert.equal(r.status, 404, r.body);
  r = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: { path: 'src2/deep', parents: true } });
  assert.equal(r.status, 201, r.body);
  assert.equal((await put('src/a.c', 'int a;\n')).status, 201);
  assert.equal((await put('src2/b.c', 'int b;\n')).status, 201);
  assert.equal((await put('empty/x', 'x')).status, 404);

  r = await api(c, 'GET', `${base}/tree`, as(owner));
  assert.equal(r.status, 200, r.body);
  const paths = r.json().entries.map((e) => `${e.kind}:${e.path}`);
  for (const p of ['dir:src', 'file:src/a.c', 'dir:src2', 'dir:src2/deep', 'file:src2/b.c', 'file:hello.txt']) assert.ok(paths.includes(p), p);
  const a = r.json().entries.find((e) => e.path === 'src/a.c');
  assert.deepEqual([a.size, a.version, a.binary], [7, 1, false]);
  r = await api(c, 'GET', `${base}/tree?dir=src2`, as(owner));
  assert.deepEqual(r.json().entries.map((e) => e.path).sort(), ['src2/b.c', 'src2/deep']);

  r = await api(c, 'POST', `${base}/move`, { ...as(owner), body: { from: 'src', to: 'lib' } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().moved, 2);
  r = await api(c, 'GET', `${base}/tree`, as(owner));
  const after = r.json().entries.map((e) => e.path);
  assert.ok(after.includes('lib/a.c') && after.includes('src2/b.c') && after.includes('src2/deep'), after.join(','));
  assert.ok(!after.some((p) => p === 'src' || p.startsWith('src/')), after.join(','));
  assert.equal((await get('lib/a.c')).body, 'int a;\n');

  assert.equal((await put('lib/b.c', 'B')).status, 201);
  r = await api(c, 'POST', `${base}/move`, { ...as(owner), body: { from: 'lib/a.c', to: 'lib/b.c' } });
  assert.equal(r.status, 409, r.body);
  r = await api(c, 'POST', `${base}/move`, { ...as(owner), body: { from: 'lib/a.c', to: 'lib/b.c', replace: true } });
  assert.equal(r.status, 200, r.body);
  assert.equal((await get('lib/b.c')).body, 'int a;\n');

  r = await api(c, 'DELETE', `${base}/file?path=lib`, as(owner));
  assert.equal(r.status, 204, r.body);
  assert.equal((await get('lib/b.c')).status, 404);
  r = await api(c, 'DELETE', `${base}/file?path=lib`, as(owner));
  assert.equal(r.status, 404, r.body);
});

test('read-only grantee reads but every write is 403; an outsider gets 404', async () => {
  assert.equal((await get('hello.txt', reader)).status, 200);
  assert.equal((await api(c, 'GET', `${base}/tree`, as(reader))).status, 200);
  const writes = [
    () => put('r.txt', 'x', { token: reader.token }),
    () => api(c, 'DELETE', `${base}/file?path=hello.txt`, as(reader)),
    () => api(c, 'POST', `${base}/dirs`, { ...as(reader), body: { path: 'rd' } }),
    () => api(c, 'POST', `${base}/move`, { ...as(reader), body: { from: 'hello.txt', to: 'h2' } }),
  ];
  for (const w of writes) assert.equal((await w()).status, 403);
  assert.equal((await get('hello.txt', outsider)).status, 404);
  assert.equal((await put('o.txt', 'x', { token: outsider.token })).status, 404);
  assert.equal((await get('hello.txt')).body, 'v2\n');
});

test('hostile paths are 422 with a reason; nothing is created', async () => {
  const bad = ['../x', '/etc/passwd', 'a//b', 'a\\b', 'a\u0001b', 'a/./b', 'a/', 'x'.repeat(300), Array(40).fill('d').join('/'), 'a\u007fb'];
  for (const p of bad) {
    const r = await put(p, 'x');
    assert.equal(r.status, 422, `${JSON.stringify(p)}: ${r.body}`);
    assert.ok(r.json().detail, p);
    const m = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: { path: p } });
    assert.equal(m.status, 422, `mkdir ${JSON.stringify(p)}: ${m.body}`);
  }
  // NUL cannot even be decoded from the query (400), nor stored from JSON.
  let r = await api(c, 'PUT', `${base}/file?path=a%00b`, { ...as(owner), body: 'x' });
  assert.ok([400, 422].includes(r.status), r.body);
  r = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: '{"path":"a\\u0000b"}' });
  assert.ok([400, 422].includes(r.status), r.body);
  r = await api(c, 'POST', `${base}/move`, { ...as(owner), body: { from: 'hello.txt', to: '../h' } });
  assert.equal(r.status, 422, r.body);
  const tree = (await api(c, 'GET', `${base}/tree`, as(owner))).json().entries.map((e) => e.path);
  assert.ok(!tree.some((p) => p.includes('etc') || p.includes('..')), tree.join(','));
});

test('binary round trip is byte-exact; over the file limit is 413', async () => {
  const bytes = Buffer.alloc(1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
  let r = await put('img.bin', bytes, { headers: { 'Content-Type': 'application/octet-stream' }, extra: '&binary=1' });
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json().binary, true);
  r = await get('img.bin');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/octet-stream');
  assert.ok(Buffer.compare(r.raw, bytes) === 0, 'byte-exact');
  r = await put('big.txt', 'y'.repeat(5000));
  assert.equal(r.status, 413, r.body);
  assert.equal(r.json().code, 'limit_exceeded');
  assert.equal((await get('big.txt')).status, 404);
});

test('every change is a file event on the project stream', async () => {
  const out = await fileEvents();
  const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.type === 'file');
  const seen = events.map((e) => `${e.data.action}:${e.data.path}`);
  for (const s of ['created:hello.txt', 'updated:hello.txt', 'created:src', 'renamed:lib', 'deleted:lib', 'created:img.bin'])
    assert.ok(seen.includes(s), `${s} in ${seen.join(' ')}`);
  const upd = events.find((e) => e.data.action === 'updated');
  assert.equal(upd.version, 2);
  assert.equal(upd.file, 'hello.txt');
  assert.equal(upd.project, String(project));
});

test('archive download lists every file (zip and tar.gz)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-arch-'));
  try {
    let r = await api(c, 'GET', `${base}/archive?format=zip`, as(reader));
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-disposition'], /attachment; filename="project-\d+\.zip"/);
    assert.equal(r.headers['content-type'], 'application/zip');
    assert.equal(r.headers['content-length'], undefined, 'streamed, not buffered');
    writeFileSync(path.join(dir, 'p.zip'), r.raw);
    const zl = execFileSync('unzip', ['-Z1', path.join(dir, 'p.zip')]).toString();
    for (const p of ['hello.txt', 'img.bin', 'src2/b.c', 'src2/deep/']) assert.ok(zl.split('\n').includes(p), `${p} in ${zl}`);
    r = await api(c, 'GET', `${base}/archive?format=tar.gz`, as(owner));
    assert.equal(r.status, 200, r.body);
    writeFileSync(path.join(dir, 'p.tgz'), r.raw);
    const tl = execFileSync('tar', ['tzf', path.join(dir, 'p.tgz')]).toString().split('\n').map((s) => s.replace(/\/$/, ''));
    for (const p of ['hello.txt', 'img.bin', 'src2/b.c', 'src2/deep']) assert.ok(tl.includes(p), `${p} in ${tl}`);
    execFileSync('tar', ['xzf', path.join(dir, 'p.tgz'), '-C', dir]);
    assert.equal(execFileSync('cat', [path.join(dir, 'hello.txt')]).toString(), 'v2\n');
    r = await api(c, 'GET', `${base}/archive?format=rar`, as(owner));
    assert.equal(r.status, 422, r.body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent replaces with the same If-Match: exactly one wins', async () => {
  let r = await put('race.txt', 'v1');
  assert.equal(r.status, 201, r.body);
  const rs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => put('race.txt', `w${i}`, { headers: { 'If-Match': '"1"' } })));
  const st = rs.map((x) => x.status).sort();
  assert.deepEqual(st, [200, 412, 412, 412, 412, 412], rs.map((x) => x.body).join('\n'));
  const winner = rs.find((x) => x.status === 200);
  r = await get('race.txt');
  assert.equal(r.headers.etag, '"2"');
  assert.equal(winner.json().version, 2);
});

test('the entry limit is 413 and nothing past it is created', async () => {
  const tree = (await api(c, 'GET', `${base}/tree`, as(owner))).json().entries.length;
  let last;
  for (let i = tree; i < 52; i++) {
    last = await api(c, 'POST', `${base}/dirs`, { ...as(owner), body: { path: `many${i}` } });
    if (last.status !== 201) break;
  }
  assert.equal(last.status, 413, last.body);
  assert.equal(last.json().code, 'limit_exceeded');
  const n = (await api(c, 'GET', `${base}/tree`, as(owner))).json().entries.length;
  assert.equal(n, 50);
});
