// cohort-bench files on tiny runs against a real cluster with the hello-fcgi
// baseline behind nginx: read4k and list2000 run, every request succeeds, and
// the JSON report has the shape docs/bench.md documents. Performance is not
// checked here (make bench measures it); a bad token must fail the run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, curl, BIN_DIR } from './lib/cluster.mjs';
import { user } from './t1099-api-people-helpers.mjs';

const BENCH = path.join(BIN_DIR, 'cohort-bench');

function bench(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    execFile(BENCH, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
let c, tokenFile, pRead, pList;

before(async () => {
  c = await startCluster({ streamers: 0, helloFcgi: true });
  const u = await user(c, 'bench');
  tokenFile = path.join(c.dir, 'token');
  writeFileSync(tokenFile, u.token, { mode: 0o600 });
  const made = await c.cliJson('course-create', '--owner', 'bench', 'Bench');
  const l1 = (await c.cliJson('lesson-create', made.course.id, 'read')).lesson.id;
  const l2 = (await c.cliJson('lesson-create', made.course.id, 'list')).lesson.id;
  pRead = (await c.cliJson('project-ensure', l1, made.teacher.id)).project.id;
  pList = (await c.cliJson('project-ensure', l2, made.teacher.id)).project.id;
});
after(async () => { await c?.stop(); });

function checkSide(s, what) {
  assert.ok(s.status['2xx'] > 0, `${what}: no 2xx (${JSON.stringify(s.status)})`);
  assert.equal(s.requests, s.status['2xx'], `${what}: ${JSON.stringify(s.status)}`);
  assert.equal(s.errors.total, 0, `${what}: ${JSON.stringify(s.errors)}`);
  for (const k of ['connect', 'read', 'parse', 'timeouts', 'closed', 'http']) assert.equal(s.errors[k], 0, `${what}: ${k}`);
  assert.ok(s.requests_per_s > 0 && s.wall_s > 0, `${what}: ${s.requests_per_s} req/s over ${s.wall_s} s`);
  const l = s.latency_ms;
  assert.equal(l.count, s.requests);
  assert.ok(l.min <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, JSON.stringify(l));
  assert.ok(s.cpu.bench && typeof s.cpu.bench.cpu_s === 'number', JSON.stringify(s.cpu));
}

test('the hello responder answers through nginx', async () => {
  const r = await curl(`${c.url}/bench/hello`);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello\n');
  assert.match(r.headers.server, /nginx/);
});

test('read4k: the file and hello sides both succeed, ratio and targets reported', { timeout: 60000 }, async () => {
  const out = path.join(c.dir, 'read4k.json');
  const r = await bench(['files', 'read4k', '--url', c.url, '--project', String(pRead), '--token-file', tokenFile,
    '--connections', '2', '--rounds', '2', '--duration', '0.3', '--warmup', '0.1', '--name', 'smoke-read',
    '--cpu-pid', `api=${c.pid('api')}`, '--cpu-pid', `hello=${c.pid('hello')}`,
    '--out', out, '--target', 'ratio>=0', '--target', 'errors==0']);
  assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /ratio +file\/hello \d/);
  const j = readJson(out);
  assert.equal(j.version, 1);
  assert.equal(j.mode, 'files');
  assert.equal(j.scenario, 'read4k');
  assert.equal(j.name, 'smoke-read');
  assert.equal(j.config.via, 'nginx');
  assert.equal(j.config.connections, 2);
  assert.equal(j.config.size, 4096);
  assert.equal(j.setup.status, 200);
  checkSide(j.hello, 'hello');
  checkSide(j.file, 'file');
  assert.equal(j.hello.phases, 2);
  assert.equal(j.file.phases, 2);
  assert.equal(j.hello.target, '/bench/hello');
  assert.match(j.file.target, new RegExp(`^/api/v1/projects/${pRead}/file\\?path=`));
  assert.equal(j.hello.body_bytes_per_response, 6);
  assert.equal(j.file.body_bytes_per_response, 4096);
  assert.ok(j.file.cpu.api.cpu_s > 0, 'cohort-api did the file side');
  assert.equal(typeof j.ratio, 'number');
  assert.ok(j.ratio > 0);
  assert.equal(j.errors_total, 0);
  assert.deepEqual(j.targets.map((t) => [t.expr, t.pass]), [['ratio>=0', true], ['errors==0', true]]);
  assert.equal(j.pass, true);
});

test('list2000 (with 20 files): created through the API, listed, a second run finds them', { timeout: 60000 }, async () => {
  for (const [i, name] of ['first', 'again'].entries()) {
    const out = path.join(c.dir, `list-${name}.json`);
    const r = await bench(['files', 'list2000', '--url', c.url, '--project', String(pList), '--token-file', tokenFile,
      '--files', '20', '--duration', '0.3', '--warmup', '0', '--out', out, '--target', 'p99_ms<=100000']);
    assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
    const j = readJson(out);
    assert.equal(j.mode, 'files');
    assert.equal(j.scenario, 'list2000');
    assert.equal(j.config.files, 20);
    assert.equal(j.config.connections, 1);
    assert.equal(j.setup.created, i === 0 ? 20 : 0);
    assert.equal(j.setup.existing, i === 0 ? 0 : 20);
    assert.equal(j.setup.failed, 0);
    assert.equal(j.setup.tree_files, 20);
    assert.equal(j.setup.tree_entries, 20);
    checkSide(j.list, 'list');
    assert.equal(j.list.body_bytes_per_response, j.setup.tree_bytes);
    assert.equal(j.hello, undefined);
    assert.equal(j.ratio, undefined);
    assert.equal(j.errors_total, 0);
    assert.equal(j.pass, true);
  }
  const t = await curl(`${c.url}/api/v1/projects/${pList}/tree`, { headers: { Authorization: `Bearer ${readFileSync(tokenFile, 'utf8')}` } });
  assert.equal(t.json().entries.length, 20);
});

test('a token the API refuses fails the run, and the report says why', { timeout: 60000 }, async () => {
  const bad = path.join(c.dir, 'bad-token');
  writeFileSync(bad, 'not-a-token');
  const out = path.join(c.dir, 'bad.json');
  const r = await bench(['files', 'read4k', '--url', c.url, '--project', String(pRead), '--token-file', bad,
    '--duration', '0.2', '--warmup', '0', '--rounds', '1', '--out', out]);
  assert.equal(r.code, 1, `expected exit 1:\n${r.stdout}\n${r.stderr}`);
  const j = readJson(out);
  assert.match(j.setup.error, /HTTP 401/);
  assert.equal(j.pass, false);
});
