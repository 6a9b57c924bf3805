// Lesson templates through nginx: upload in every format, a student's first
// access gets the files byte for byte; concurrent first accesses import once;
// a template changed later never touches existing projects; every hostile
// archive of tests/data/archives is refused with its code and changes
// nothing; URL imports (file:// and a local HTTP server on 127.0.0.1 only),
// schemes not allowed, redirects, HTTP errors, size caps, timeouts; the
// route's own body limit (413); the round trip upload -> first access ->
// export (download route and CLI) -> extract -> identical tree; permissions;
// the CLI's template import and project ensure / export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startCluster, curl, BIN_DIR, ROOT } from './lib/cluster.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

const DATA = path.join(ROOT, 'tests/data/archives');
const MANIFEST = JSON.parse(readFileSync(path.join(DATA, 'good.manifest.json'), 'utf8'));
const MANIFEST2 = JSON.parse(readFileSync(path.join(DATA, 'good2.manifest.json'), 'utf8'));
const MAX_UPLOAD = 2 * 1024 * 1024;

// Every hostile file of the corpus with the status and code it must get (README.md).
const HOSTILE = {
  'zip-dotdot.zip': [422, 'invalid_field'],
  'tar-dotdot.tar': [422, 'invalid_field'],
  'zip-absolute.zip': [422, 'invalid_field'],
  'tar-absolute.tar': [422, 'invalid_field'],
  'zip-symlink.zip': [422, 'invalid_field'],
  'tar-symlink.tar': [422, 'invalid_field'],
  'tar-hardlink.tar': [422, 'invalid_field'],
  'tar-chardev.tar': [422, 'invalid_field'],
  'tar-blockdev.tar': [422, 'invalid_field'],
  'tar-fifo.tar': [422, 'invalid_field'],
  'too-many-entries.tar.gz': [413, 'limit_exceeded'],
  'too-many-entries.zip': [413, 'limit_exceeded'],
  'over-max-file.zip': [413, 'limit_exceeded'],
  'over-max-total.tar.gz': [413, 'limit_exceeded'],
  'bomb.zip': [413, 'limit_exceeded'],
  'bomb.tar.xz': [413, 'limit_exceeded'],
  'zip-duplicate.zip': [422, 'invalid_field'],
  'tar-duplicate.tar': [422, 'invalid_field'],
  'file-under-file.tar': [422, 'invalid_field'],
  'tar-backslash.tar': [422, 'invalid_field'],
  'zip-backslash-dotdot.zip': [422, 'invalid_field'],
  'zip-bad-utf8.zip': [422, 'invalid_field'],
  'tar-bad-utf8.tar': [422, 'invalid_field'],
  'zip-control-char.zip': [422, 'invalid_field'],
  'corrupt.zip': [422, 'invalid_field'],
  'truncated.zip': [415, 'unsupported_media'],
  'truncated.tar.gz': [415, 'unsupported_media'],
  'not-an-archive.txt': [415, 'unsupported_media'],
  'empty-file.bin': [415, 'unsupported_media'],
};
// What the detail must mention, for the files whose refusal names a check.
const DETAIL = {
  'too-many-entries.tar.gz': /more than 100 entries/,
  'over-max-file.zip': /'big\.bin' is larger than 1048576/,
  'over-max-total.tar.gz': /expands to more than 3145728/,
  'bomb.zip': /expands more than 100 times/,
  'bomb.tar.xz': /expands more than 100 times/,
  'tar-symlink.tar': /symbolic link/,
  'tar-hardlink.tar': /hard link/,
  'tar-chardev.tar': /character device/,
  'tar-fifo.tar': /FIFO/,
  'zip-dotdot.zip': /\.\./,
  'tar-backslash.tar': /backslash/,
  'zip-bad-utf8.zip': /UTF-8/,
};

let c, objects, work, teacher, course, code, outsider, seq = 0;
const servers = [];

const sha = (b) => createHash('sha256').update(b).digest('hex');

before(async () => {
  objects = mkdtempSync(path.join(os.tmpdir(), 'cohort-t1310-objects-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'cohort-t1310-work-'));
  c = await startCluster({
    streamers: 0,
    env: {
      COHORT_OBJECTS_URL: `file:${objects}`,
      COHORT_TEMPLATES_URL_SCHEMES: 'file,http',
      COHORT_TEMPLATES_MAX_ENTRIES: '100',
      COHORT_TEMPLATES_MAX_FILE: '1M',
      COHORT_TEMPLATES_MAX_TOTAL: '3M',
      COHORT_TEMPLATES_MAX_UPLOAD: String(MAX_UPLOAD),
      COHORT_TEMPLATES_FETCH_TIMEOUT_S: '2',
    },
  });
  teacher = await user(c, 'tess');
  outsider = await user(c, 'oscar');
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Templates');
  course = made.course.id;
  code = made.join_code;
  await c.cliJson('course-create', '--owner', 'oscar', 'Elsewhere');
});
after(async () => {
  for (const s of servers) s.close();
  await c?.stop();
  rmSync(objects, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function lesson(name = `Lesson ${++seq}`) {
  return (await c.cliJson('lesson-create', course, name)).lesson.id;
}

async function student(login = `s${++seq}`) {
  const u = await user(c, login);
  const j = await api(c, 'POST', '/api/v1/courses/join', { token: u.token, body: { code, nickname: login } });
  assert.equal(j.status, 201, j.body);
  return { ...u, participant: j.json().participant.id };
}

const CTYPE = { zip: 'application/zip', tar: 'application/x-tar', 'tar.gz': 'application/gzip', 'tar.xz': 'application/x-xz' };

function upload(lessonId, bytes, ctype = 'application/octet-stream', token = teacher.token) {
  return api(c, 'PUT', `/api/v1/lessons/${lessonId}/template`, { token, body: bytes, headers: { 'Content-Type': ctype } });
}

async function firstAccess(u, lessonId) {
  const r = await api(c, 'GET', `/api/v1/lessons/${lessonId}/project`, { token: u.token });
  assert.equal(r.status, 200, r.body);
  return r.json().project.id;
}

/** The project's tree as {path: {kind, size?, sha256?}}, content read through GET /file. */
async function projectTree(u, projectId) {
  const r = await api(c, 'GET', `/api/v1/projects/${projectId}/tree`, { token: u.token });
  assert.equal(r.status, 200, r.body);
  const out = {};
  for (const e of r.json().entries) {
    if (e.kind === 'dir') { out[e.path] = { kind: 'dir' }; continue; }
    const f = await curl(`${c.url}/api/v1/projects/${projectId}/file?path=${encodeURIComponent(e.path)}`,
      { headers: { Authorization: `Bearer ${u.token}` } });
    assert.equal(f.status, 200, f.body);
    // Sizes and digests of the bytes served (the tree's size of a CRLF text
    // file counts its stored, LF form since live editing landed).
    out[e.path] = { kind: 'file', size: f.raw.length, sha256: sha(f.raw), binary: e.binary };
  }
  return out;
}

const strip = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.kind === 'dir' ? { kind: 'dir' } : { kind: 'file', size: v.size, sha256: v.sha256 }]));

/** Every object key in the store (relative paths), sorted. */
function storeKeys(dir = objects, rel = '') {
  const out = [];
  for (const name of readdirSync(path.join(dir, rel))) {
    if (!rel && name.startsWith('.tmp')) continue;
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(dir, r)).isDirectory()) out.push(...storeKeys(dir, r));
    else out.push(r);
  }
  return out.sort();
}

/** Extracts an archive with python3 and returns the tree it wrote as a manifest. */
function extractTree(file) {
  const dest = mkdtempSync(path.join(work, 'x-'));
  execFileSync('python3', ['-c', `
import sys, tarfile, zipfile
f, d = sys.argv[1], sys.argv[2]
if f.endswith('.zip'):
    zipfile.ZipFile(f).extractall(d)
else:
    tarfile.open(f).extractall(d, filter='data')
`, file, dest]);
  const out = {};
  const walk = (rel) => {
    for (const name of readdirSync(path.join(dest, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(dest, r));
      if (st.isDirectory()) { out[r] = { kind: 'dir' }; walk(r); } else {
        const b = readFileSync(path.join(dest, r));
        out[r] = { kind: 'file', size: b.length, sha256: sha(b) };
      }
    }
  };
  walk('');
  return out;
}

/** A tiny HTTP server on 127.0.0.1 with a handler; resolves its base URL. */
async function server(handler) {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${s.address().port}`;
}

for (const fmt of ['zip', 'tar', 'tar.gz', 'tar.xz']) {
  test(`a ${fmt} template reaches a student's first access byte for byte`, async () => {
    const l = await lesson();
    const bytes = readFileSync(path.join(DATA, `good.${fmt}`));
    const r = await upload(l, bytes, CTYPE[fmt]);
    assert.equal(r.status, 200, r.body);
    const t = r.json().template;
    assert.equal(t.format, fmt);
    assert.equal(t.sha256, sha(bytes));
    assert.equal(t.size, bytes.length);
    assert.equal(t.entries, Object.keys(MANIFEST).length);
    assert.equal(t.files, Object.values(MANIFEST).filter((e) => e.kind === 'file').length);
    assert.match(t.ref, new RegExp(`^templates/lesson-${l}-[0-9a-f]{16}-[0-9a-f]{8}\\.${fmt.replace('.', '\\.')}$`));
    assert.deepEqual(storeKeys().filter((k) => k.includes(`lesson-${l}-`)), [t.ref, `${t.ref}.json`]);

    const s = await student();
    // Members read the summary and can download the archive as uploaded.
    const g = await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: s.token });
    assert.equal(g.status, 200, g.body);
    assert.deepEqual(g.json().template, t);
    const d = await curl(`${c.url}/api/v1/lessons/${l}/template?download=1`, { headers: { Authorization: `Bearer ${s.token}` } });
    assert.equal(d.status, 200);
    assert.equal(d.headers['content-type'], CTYPE[fmt]);
    assert.ok(d.raw.equals(bytes), 'download is the uploaded archive');

    const p = await firstAccess(s, l);
    assert.deepEqual(await projectTree(s, p), MANIFEST);
    // A second access changes nothing.
    assert.equal(await firstAccess(s, l), p);
    assert.deepEqual(await projectTree(s, p), MANIFEST);
  });
}

test('concurrent first accesses import the template exactly once', async () => {
  const l = await lesson();
  assert.equal((await upload(l, readFileSync(path.join(DATA, 'good.zip')), 'application/zip')).status, 200);
  const s = await student();
  const others = await Promise.all([1, 2, 3].map(() => student()));
  const reqs = [];
  for (let i = 0; i < 8; i++) reqs.push(api(c, 'GET', `/api/v1/lessons/${l}/project`, { token: s.token }));
  for (const o of others) for (let i = 0; i < 3; i++) reqs.push(api(c, 'GET', `/api/v1/lessons/${l}/project`, { token: o.token }));
  const rs = await Promise.all(reqs);
  for (const r of rs) assert.equal(r.status, 200, r.body);
  const ids = new Set(rs.slice(0, 8).map((r) => r.json().project.id));
  assert.equal(ids.size, 1, 'one project for the student');
  const projects = [...ids, ...others.map((o, k) => rs[8 + 3 * k].json().project.id)];
  for (const [k, p] of projects.entries()) {
    const u = k === 0 ? s : others[k - 1];
    const tree = await projectTree(u, p);
    assert.deepEqual(strip(tree), strip(MANIFEST));
    // Imported once: every file at version 1, and one import logged per project.
    const t = await api(c, 'GET', `/api/v1/projects/${p}/tree`, { token: u.token });
    for (const e of t.json().entries) if (e.kind === 'file') assert.equal(e.version, 1, e.path);
    const logged = c.log('api').split('\n').filter((x) => x.includes('"template_imported"') && x.includes(`"project":${p},`));
    assert.equal(logged.length, 1, `one import of project ${p}`);
  }
});

test('a template changed later reaches new projects only; the old object is deleted', async () => {
  const l = await lesson();
  const first = (await upload(l, readFileSync(path.join(DATA, 'good.tar.gz')), 'application/gzip')).json().template;
  const a = await student();
  const pa = await firstAccess(a, l);
  // The owner edits a file; that edit and everything else must survive the change.
  const r = await curl(`${c.url}/api/v1/projects/${pa}/file?path=README.md`, {
    method: 'PUT', headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'text/plain', 'If-Match': '"1"' }, body: 'mine\n' });
  assert.equal(r.status, 200, r.body);
  const before = await projectTree(a, pa);

  const up = await upload(l, readFileSync(path.join(DATA, 'good2.zip')), 'application/zip');
  assert.equal(up.status, 200, up.body);
  const second = up.json().template;
  assert.notEqual(second.ref, first.ref);
  assert.deepEqual(storeKeys().filter((k) => k.includes(`lesson-${l}-`)), [second.ref, `${second.ref}.json`], 'old objects deleted');

  assert.equal(await firstAccess(a, l), pa);
  assert.deepEqual(await projectTree(a, pa), before, 'existing project untouched');
  const b = await student();
  const pb = await firstAccess(b, l);
  assert.deepEqual(await projectTree(b, pb), MANIFEST2);
  // Uploading the same bytes again still makes a new object (and drops the old one).
  const again = (await upload(l, readFileSync(path.join(DATA, 'good2.zip')), 'application/zip')).json().template;
  assert.notEqual(again.ref, second.ref);
  assert.deepEqual(storeKeys().filter((k) => k.includes(`lesson-${l}-`)), [again.ref, `${again.ref}.json`]);
});

test('every hostile archive of the corpus is refused whole and changes nothing', async () => {
  const files = readdirSync(DATA).filter((f) => !/\.(py|md|json)$/.test(f) && !f.startsWith('good'));
  assert.deepEqual(files.sort(), Object.keys(HOSTILE).sort(), 'the table covers the corpus');
  const l = await lesson();
  const good = (await upload(l, readFileSync(path.join(DATA, 'good.zip')), 'application/zip')).json().template;
  const keys = storeKeys();
  for (const [f, [status, code]] of Object.entries(HOSTILE)) {
    const r = await upload(l, readFileSync(path.join(DATA, f)));
    const p = expectProblem(assert, r, status, code, f);
    if (DETAIL[f]) assert.match(p.detail, DETAIL[f], f);
    const g = await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: teacher.token });
    assert.deepEqual(g.json().template, good, `${f}: the template is unchanged`);
  }
  assert.deepEqual(storeKeys(), keys, 'nothing stored');
  // And a student still gets the good template.
  const s = await student();
  assert.deepEqual(await projectTree(s, await firstAccess(s, l)), MANIFEST);
});

test('URL imports: file:// and a local HTTP server; refusals keep the template', async () => {
  const l = await lesson();
  const put = (body) => api(c, 'PUT', `/api/v1/lessons/${l}/template`, { token: teacher.token, body });
  const xz = readFileSync(path.join(DATA, 'good.tar.xz'));

  let r = await put({ url: `file://${path.join(DATA, 'good.tar.xz')}` });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().template.sha256, sha(xz));

  const big = randomBytes(MAX_UPLOAD + 1000);
  const base = await server((req, res) => {
    if (req.url === '/good.zip') { res.writeHead(200, { 'Content-Type': 'application/zip' }); res.end(readFileSync(path.join(DATA, 'good.zip'))); }
    else if (req.url === '/redirect') { res.writeHead(302, { Location: '/good.zip' }); res.end(); }
    else if (req.url === '/to-file') { res.writeHead(302, { Location: `file://${path.join(DATA, 'good.zip')}` }); res.end(); }
    else if (req.url === '/bomb.zip') { res.writeHead(200); res.end(readFileSync(path.join(DATA, 'bomb.zip'))); }
    else if (req.url === '/big-declared') { res.writeHead(200, { 'Content-Length': big.length }); res.end(big); }
    else if (req.url === '/big-chunked') { res.writeHead(200); res.write(big.subarray(0, 1 << 20)); setTimeout(() => res.end(big.subarray(1 << 20)), 50); }
    else if (req.url === '/slow') { res.writeHead(200); res.write('PK'); /* never ends */ }
    else { res.writeHead(404); res.end('no'); }
  });
  r = await put({ url: `${base}/good.zip` });
  assert.equal(r.status, 200, r.body);
  const viaHttp = r.json().template;
  assert.equal(viaHttp.sha256, sha(readFileSync(path.join(DATA, 'good.zip'))));
  r = await put({ url: `${base}/redirect` });
  assert.equal(r.status, 200, `a redirect within http is followed: ${r.body}`);
  const current = r.json().template;

  const refusals = [
    [{ url: `${base}/missing.zip` }, 502, 'fetch_failed', /HTTP 404/],
    [{ url: `${base}/to-file` }, 422, 'invalid_field', /scheme/],
    [{ url: `${base}/bomb.zip` }, 413, 'limit_exceeded', /expands more than 100 times/],
    [{ url: `${base}/big-declared` }, 413, 'limit_exceeded', /larger than/],
    [{ url: `${base}/big-chunked` }, 413, 'limit_exceeded', /larger than/],
    [{ url: `${base}/slow` }, 502, 'fetch_failed', /timed out/],
    [{ url: 'ftp://127.0.0.1/x.zip' }, 422, 'invalid_field', /scheme 'ftp' is not allowed/],
    [{ url: 'https://127.0.0.1:1/x.zip' }, 422, 'invalid_field', /scheme 'https' is not allowed/],
    [{ url: 'file:///nonexistent/cohort/x.zip' }, 502, 'fetch_failed', /failed/],
    [{ url: 'not a url' }, 422, 'invalid_field', /absolute URL/],
    [{ url: 42 }, 422, 'invalid_field', /url/],
    [{ href: 'file:///etc/passwd' }, 422, 'invalid_field', /unknown field/],
    [{}, 422, 'invalid_field', /url/],
  ];
  for (const [body, status, code, detail] of refusals) {
    const t0 = Date.now();
    const p = expectProblem(assert, await put(body), status, code, JSON.stringify(body));
    assert.match(p.detail, detail, JSON.stringify(body));
    assert.ok(Date.now() - t0 < 10000, 'bounded by the fetch timeout');
  }
  const g = await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: teacher.token });
  assert.deepEqual(g.json().template, current, 'refusals changed nothing');
  assert.ok(!storeKeys().some((k) => k.startsWith(viaHttp.ref)), 'replaced objects deleted');
});

test('the CLI refuses an http URL when only https is allowed, and imports a file', async () => {
  const l = await lesson();
  const run = (env, ...args) => new Promise((resolve) => {
    execFile(path.join(BIN_DIR, 'cohort'), args.map(String), { env: { ...c.env(), ...env }, timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  let r = await run({ COHORT_TEMPLATES_URL_SCHEMES: 'https' }, 'template', 'import', l, 'http://127.0.0.1:1/good.zip');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^cohort template-import: url scheme 'http' is not allowed .*\(invalid_field\)\n$/);
  r = await run({ COHORT_TEMPLATES_URL_SCHEMES: 'https' }, 'template', 'import', l, `file://${path.join(DATA, 'good.zip')}`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\(invalid_field\)/);
  r = await run({}, 'template', 'import', l, path.join(DATA, 'tar-symlink.tar'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /symbolic link.*\(invalid_field\)/);
  r = await run({}, 'template', 'import', l, path.join(DATA, 'good.tar'));
  assert.equal(r.code, 0, r.stderr);
  const t = JSON.parse(r.stdout).template;
  assert.equal(t.sha256, sha(readFileSync(path.join(DATA, 'good.tar'))));
  const g = await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: teacher.token });
  assert.deepEqual(g.json().template, t);
});

test('the upload limit is the route\'s own: over templates.max_upload is 413 before reading', async () => {
  const l = await lesson();
  // Above api.max_body (1M) but within templates.max_upload (2M): accepted.
  const dir = mkdtempSync(path.join(work, 'big-'));
  const tarFile = path.join(dir, 'big.tar');
  writeFileSync(path.join(dir, 'a.bin'), randomBytes(700 * 1024));
  writeFileSync(path.join(dir, 'b.bin'), randomBytes(700 * 1024));
  execFileSync('tar', ['-cf', tarFile, '-C', dir, 'a.bin', 'b.bin']);
  const tarBytes = readFileSync(tarFile);
  assert.ok(tarBytes.length > 1024 * 1024 && tarBytes.length < MAX_UPLOAD);
  let r = await upload(l, tarBytes, 'application/x-tar');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().template.bytes, 1400 * 1024);
  const keep = r.json().template;
  r = await upload(l, randomBytes(MAX_UPLOAD + 1));
  const p = expectProblem(assert, r, 413, 'body_too_large', 'oversize');
  assert.match(p.detail, /exceeds the limit of 2097152 bytes/);
  // Other routes keep api.max_body.
  r = await api(c, 'PATCH', `/api/v1/lessons/${l}`, { token: teacher.token, body: JSON.stringify({ description: 'x'.repeat(1100 * 1024) }) });
  expectProblem(assert, r, 413, 'body_too_large', 'lesson patch');
  r = await api(c, 'PUT', `/api/v1/lessons/${l}/template`, { token: teacher.token, body: 'hello', headers: { 'Content-Type': 'text/plain' } });
  expectProblem(assert, r, 415, 'unsupported_media', 'text/plain');
  r = await api(c, 'PUT', `/api/v1/lessons/${l}/template`, { token: teacher.token, body: '{"url":', headers: { 'Content-Type': 'application/json' } });
  expectProblem(assert, r, 400, 'malformed_json', 'bad json');
  assert.deepEqual((await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: teacher.token })).json().template, keep);
});

test('round trip: upload, first access, export (download route and CLI), extract: the same tree', async () => {
  const l = await lesson();
  assert.equal((await upload(l, readFileSync(path.join(DATA, 'good.tar.gz')), 'application/gzip')).status, 200);
  const s = await student();
  const p = await firstAccess(s, l);
  const want = strip(MANIFEST);
  for (const fmt of ['zip', 'tar.gz']) {
    const r = await curl(`${c.url}/api/v1/projects/${p}/archive?format=${fmt}`, { headers: { Authorization: `Bearer ${s.token}` } });
    assert.equal(r.status, 200);
    const f = path.join(work, `dl-${p}.${fmt}`);
    writeFileSync(f, r.raw);
    assert.deepEqual(extractTree(f), want, `download ${fmt}`);
    const out = path.join(work, `cli-${p}.${fmt}`);
    const e = await c.cliJson('project', 'export', p, out);
    assert.equal(e.format, fmt);
    assert.equal(e.entries, Object.keys(MANIFEST).length);
    assert.deepEqual(extractTree(out), want, `cli export ${fmt}`);
  }
  // The CLI refuses other extensions and unknown projects, leaving no file behind.
  let r = await c.cli('project', 'export', p, path.join(work, 'x.rar'));
  assert.equal(r.code, 2);
  r = await c.cli('project', 'export', 999999, path.join(work, 'none.zip'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\(not_found\)/);
  assert.ok(!readdirSync(work).some((n) => n.startsWith('none.zip')));
});

test('cohort project ensure imports the template on first use, once', async () => {
  const l = await lesson();
  await c.cliJson('template-import', l, path.join(DATA, 'good.zip'));
  const s = await student();
  const first = await c.cliJson('project', 'ensure', l, s.participant);
  assert.deepEqual(first.template, { imported: true, entries: Object.keys(MANIFEST).length });
  const again = await c.cliJson('project-ensure', l, s.participant);
  assert.equal(again.project.id, first.project.id);
  assert.deepEqual(again.template, { imported: false, entries: 0 });
  assert.deepEqual(await projectTree(s, first.project.id), MANIFEST);
  // The API's first access finds it imported.
  assert.equal(await firstAccess(s, l), first.project.id);
  assert.deepEqual(await projectTree(s, first.project.id), MANIFEST);
});

test('permissions: students read the summary but cannot change it; outsiders see nothing', async () => {
  const l = await lesson();
  const s = await student();
  const good = readFileSync(path.join(DATA, 'good.zip'));
  expectProblem(assert, await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: s.token }), 404, 'not_found', 'no template yet');
  expectProblem(assert, await upload(l, good, 'application/zip', s.token), 403, 'forbidden', 'student PUT');
  expectProblem(assert, await api(c, 'PUT', `/api/v1/lessons/${l}/template`, { token: s.token, body: { url: `file://${path.join(DATA, 'good.zip')}` } }), 403, 'forbidden', 'student PUT url');
  expectProblem(assert, await upload(l, good, 'application/zip', outsider.token), 404, 'not_found', 'outsider PUT');
  expectProblem(assert, await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: outsider.token }), 404, 'not_found', 'outsider GET');
  expectProblem(assert, await upload(l, good, 'application/zip', ''), 401, 'unauthenticated', 'anonymous PUT');
  assert.equal((await upload(l, good, 'application/zip')).status, 200);
  assert.equal((await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: s.token })).status, 200);
  expectProblem(assert, await api(c, 'DELETE', `/api/v1/lessons/${l}/template`, { token: s.token }), 403, 'forbidden', 'student DELETE');
  expectProblem(assert, await api(c, 'GET', `/api/v1/lessons/${l}/template?download=1`, { token: outsider.token }), 404, 'not_found', 'outsider download');

  // A project made before the removal keeps its files; a new one starts empty.
  const p = await firstAccess(s, l);
  const ref = (await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: s.token })).json().template.ref;
  const del = await api(c, 'DELETE', `/api/v1/lessons/${l}/template`, { token: teacher.token });
  assert.equal(del.status, 204, del.body);
  assert.ok(!storeKeys().some((k) => k.startsWith(ref)), 'objects deleted');
  expectProblem(assert, await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: s.token }), 404, 'not_found', 'after delete');
  expectProblem(assert, await api(c, 'DELETE', `/api/v1/lessons/${l}/template`, { token: teacher.token }), 404, 'not_found', 'delete twice');
  assert.deepEqual(await projectTree(s, p), MANIFEST);
  const t = await student();
  const pt = await firstAccess(t, l);
  assert.deepEqual(await projectTree(t, pt), {});
});

test('deleting a lesson deletes its template objects (API and CLI)', async () => {
  const l1 = await lesson();
  const t1 = (await upload(l1, readFileSync(path.join(DATA, 'good.zip')), 'application/zip')).json().template;
  const l2 = await lesson();
  const t2 = (await c.cliJson('template', 'import', l2, path.join(DATA, 'good.tar'))).template;
  assert.ok(storeKeys().includes(t1.ref) && storeKeys().includes(t2.ref));
  const d = await api(c, 'DELETE', `/api/v1/lessons/${l1}`, { token: teacher.token });
  assert.equal(d.status, 204, d.body);
  await c.cliJson('lesson-delete', l2);
  assert.deepEqual(storeKeys().filter((k) => k.startsWith(t1.ref) || k.startsWith(t2.ref)), []);
});

test('first accesses racing template replacements each get one whole template', async () => {
  const l = await lesson();
  const zips = [readFileSync(path.join(DATA, 'good.zip')), readFileSync(path.join(DATA, 'good2.zip'))];
  assert.equal((await upload(l, zips[0], 'application/zip')).status, 200);
  const students = await Promise.all(Array.from({ length: 10 }, () => student()));
  let stop = false;
  const replacer = (async () => {
    let n = 0;
    while (!stop) {
      const r = await upload(l, zips[++n % 2], 'application/zip');
      assert.equal(r.status, 200, r.body);
    }
    return n;
  })();
  const opened = await Promise.all(students.map(async (s, i) => {
    await new Promise((r) => setTimeout(r, 30 * i));
    return firstAccess(s, l);
  }));
  stop = true;
  const replaced = await replacer;
  assert.ok(replaced > 0);
  const want = [strip(MANIFEST), strip(MANIFEST2)];
  for (const [i, p] of opened.entries()) {
    const tree = strip(await projectTree(students[i], p));
    assert.ok(want.some((w) => JSON.stringify(w) === JSON.stringify(tree)), `project ${p} got one whole template: ${Object.keys(tree)}`);
  }
  // Only the current template's objects remain.
  const cur = (await api(c, 'GET', `/api/v1/lessons/${l}/template`, { token: teacher.token })).json().template;
  assert.deepEqual(storeKeys().filter((k) => k.includes(`lesson-${l}-`)), [cur.ref, `${cur.ref}.json`]);
});

test('seed-demo --templates: each demo lesson gets a starter template once; alice\'s first access gets its files', async () => {
  const plain = await c.cliJson('seed-demo');
  assert.ok(plain.lessons.length >= 2 && plain.lessons.every((l) => l.template === null), JSON.stringify(plain.lessons));
  const d = await c.cliJson('seed-demo', '--templates');
  assert.equal(d.created, false);
  const refs = d.lessons.map((l) => l.template);
  assert.ok(refs.every((r) => typeof r === 'string' && r.length > 0), JSON.stringify(d.lessons));
  assert.deepEqual((await c.cliJson('seed-demo', '--templates')).lessons.map((l) => l.template), refs, 'a second run keeps them');
  const alice = { token: await (async () => {
    const r = await api(c, 'POST', '/api/v1/sessions', { body: { login: 'alice', password: 'cohort-demo' } });
    assert.equal(r.status, 201, r.body);
    return r.json().token;
  })() };
  const tree = await projectTree(alice, await firstAccess(alice, d.lessons[0].id));
  assert.deepEqual(Object.keys(tree).sort(), ['Makefile', 'README.md', 'notes', 'src', 'src/hello.c']);
  assert.equal(tree.notes.kind, 'dir');
  const f = await curl(`${c.url}/api/v1/projects/${await firstAccess(alice, d.lessons[0].id)}/file?path=src/hello.c`,
    { headers: { Authorization: `Bearer ${alice.token}` } });
  assert.match(f.body, /printf\("hello, world\\n"\);/);
});
