// cohort-bench edit on tiny scenarios against a real cluster (REST pushes
// through nginx, updates over SSE): every accepted edit reaches every
// subscriber once, versions arrive consecutive, the server's versions match
// what was accepted, and the JSON report says so with the fields
// docs/bench.md documents. The server's versions are also read here through
// the API, independently of the tool. Performance is not checked (make bench
// measures it). Bad options are refused with exit 2.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, curl, BIN_DIR } from './lib/cluster.mjs';
import { user } from './t1099-api-people-helpers.mjs';

const BENCH = path.join(BIN_DIR, 'cohort-bench');

function bench(args, timeoutMs = 90000) {
  return new Promise((resolve) => {
    execFile(BENCH, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
let c, tokenFile, token, course;

before(async () => {
  c = await startCluster({ streamers: 1 });
  const u = await user(c, 'bench');
  token = u.token;
  tokenFile = path.join(c.dir, 'token');
  writeFileSync(tokenFile, u.token, { mode: 0o600 });
  course = (await c.cliJson('course-create', '--owner', 'bench', 'Bench')).course.id;
});
after(async () => { await c?.stop(); });

const auth = () => ({ headers: { Authorization: `Bearer ${token}` } });

/** Versions of `path` in the projects of the course's lessons named like prefix-*. */
async function versions(prefix, file) {
  const ls = (await curl(`${c.url}/api/v1/courses/${course}/lessons`, auth())).json();
  const list = (ls.lessons ?? ls).filter((l) => l.name.startsWith(`${prefix}-`));
  const out = [];
  for (const l of list) {
    const p = (await curl(`${c.url}/api/v1/lessons/${l.id}/project`, auth())).json().project.id;
    const d = await curl(`${c.url}/api/v1/projects/${p}/doc?path=${file}`, auth());
    assert.equal(d.status, 200, d.body);
    out.push(d.json().version);
  }
  return out;
}

function checkLive(j, { files, subs, writers }) {
  assert.equal(j.version, 1);
  assert.equal(j.mode, 'edit');
  assert.equal(j.config.via, 'nginx');
  assert.equal(j.config.files, files);
  assert.equal(j.setup.projects, files);
  assert.equal(j.setup.error, undefined);
  assert.equal(j.connect.ok, files * subs);
  assert.equal(j.connect.failed, 0);
  const p = j.pushes;
  assert.ok(p.accepted > 0, JSON.stringify(p));
  assert.equal(p.accepted, p.edits, 'every edit started was accepted');
  assert.equal(p.errors.failed_edits, 0);
  assert.equal(p.server_check.files, files);
  assert.equal(p.server_check.version_mismatches, 0, p.server_check.detail);
  assert.equal(p.server_check.length_mismatches, 0, p.server_check.detail);
  // Every subscriber got every version of its file once, and every edit.
  assert.equal(j.updates.expected, p.accepted * subs);
  assert.equal(j.updates.delivered, j.updates.expected);
  for (const k of ['lost', 'duplicates', 'edit_duplicates', 'edits_missing', 'closed', 'foreign'])
    assert.equal(j.updates[k], 0, `${k}: ${JSON.stringify(j.updates)}`);
  assert.ok(j.latency_ms.count > 0 && j.latency_ms.p50 <= j.latency_ms.p99, JSON.stringify(j.latency_ms));
  assert.ok(Array.isArray(j.latency_histogram_us) && j.latency_histogram_us.length > 0);
  assert.ok(p.offered >= p.edits - files * writers, `offered ${p.offered}, edits ${p.edits}`);
  assert.equal(j.server_mismatches, 0);
}

test('--help lists every option; bad options exit 2 with a message', async () => {
  const h = await bench(['edit', '--help']);
  assert.equal(h.code, 0);
  for (const o of ['url', 'course', 'token-file', 'files', 'subscribers', 'writers', 'rate', 'duration',
    'warmup', 'settle', 'drain', 'initial', 'small', 'large', 'rounds', 'path', 'threads', 'timeout',
    'cpu-pid', 'out', 'name', 'note', 'target', 'help'])
    assert.match(h.stdout, new RegExp(`--${o}\\b`), o);
  for (const [args, msg] of [
    [['edit'], /scenario must be fanout, hot or size/],
    [['edit', 'fanout', '--url', c.url], /--course is required/],
    [['edit', 'fanout', '--url', c.url, '--course', '1', '--rate', 'x'], /bad value for --rate/],
    [['edit', 'hot', '--url', c.url, '--course', '1', '--bogus'], /unknown option '--bogus'/],
    [['edit', 'size', '--url', c.url, '--course', '1', '--subscribers', '3'], /size has no subscribers/],
    [['edit', 'fanout', '--url', c.url, '--course', '1', '--target', 'p99'], /bad target/],
  ]) {
    const r = await bench(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('fanout: 3 files x 4 subscribers x 2 writers, nothing lost, server versions match', { timeout: 90000 }, async () => {
  const out = path.join(c.dir, 'fanout.json');
  const r = await bench(['edit', 'fanout', '--url', c.url, '--course', String(course), '--token-file', tokenFile,
    '--files', '3', '--subscribers', '4', '--writers', '2', '--rate', '5', '--duration', '1.5',
    '--warmup', '0.2', '--settle', '0.3', '--name', 'smokefan', '--out', out,
    '--target', 'lost==0', '--target', 'duplicates==0', '--target', 'p99_ms<=100000']);
  assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
  const j = readJson(out);
  assert.equal(j.scenario, 'fanout');
  assert.equal(j.name, 'smokefan');
  checkLive(j, { files: 3, subs: 4, writers: 2 });
  assert.deepEqual(j.targets.map((t) => [t.expr, t.pass]),
    [['lost==0', true], ['duplicates==0', true], ['p99_ms<=100000', true]]);
  assert.equal(j.pass, true);
  // The server, read independently: a new file is version 1.
  const v = await versions('smokefan', 'edit.txt');
  assert.equal(v.length, 3);
  assert.equal(v.reduce((a, x) => a + (x - 1), 0), j.pushes.accepted);
});

test('hot: one file, 6 authors each subscribed, concurrent pushes rebased, each edit once', { timeout: 90000 }, async () => {
  const out = path.join(c.dir, 'hot.json');
  const r = await bench(['edit', 'hot', '--url', c.url, '--course', String(course), '--token-file', tokenFile,
    '--subscribers', '6', '--writers', '6', '--rate', '10', '--duration', '1.5', '--warmup', '0.2',
    '--settle', '0.3', '--name', 'smokehot', '--out', out]);
  assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
  const j = readJson(out);
  checkLive(j, { files: 1, subs: 6, writers: 6 });
  const v = await versions('smokehot', 'edit.txt');
  assert.deepEqual(v, [1 + j.pushes.accepted]);
});

test('pushes abandoned after 5 ms (outcome unknown) are retried safely: each edit once, versions match', { timeout: 90000 }, async () => {
  // A retry must not be applied on top of an attempt the client gave up
  // on but the server accepted (or accepts later): docs/bench.md.
  const out = path.join(c.dir, 'abandon.json');
  const r = await bench(['edit', 'hot', '--url', c.url, '--course', String(course), '--token-file', tokenFile,
    '--subscribers', '4', '--writers', '10', '--rate', '20', '--duration', '1.5', '--warmup', '0.2',
    '--settle', '0.3', '--timeout', '0.005', '--name', 'smokeabandon', '--out', out]);
  assert.ok(r.code === 0 || r.code === 1, `cohort-bench crashed:\n${r.stdout}\n${r.stderr}`);
  const j = readJson(out);
  assert.equal(j.setup.error, undefined);
  const p = j.pushes;
  assert.equal(p.server_check.version_mismatches, 0, p.server_check.detail);
  assert.equal(p.server_check.length_mismatches, 0, p.server_check.detail);
  for (const k of ['lost', 'duplicates', 'edit_duplicates', 'edits_missing'])
    assert.equal(j.updates[k], 0, `${k}: ${JSON.stringify(j.updates)}`);
  assert.equal(j.updates.delivered, j.updates.expected);
  const v = await versions('smokeabandon', 'edit.txt');
  assert.deepEqual(v, [1 + p.accepted]);
});

test('size: both files take edits, ratio reported, server versions match', { timeout: 90000 }, async () => {
  const out = path.join(c.dir, 'size.json');
  const r = await bench(['edit', 'size', '--url', c.url, '--course', String(course), '--token-file', tokenFile,
    '--writers', '2', '--small', '512', '--large', '20000', '--duration', '0.4', '--rounds', '1',
    '--warmup', '0', '--name', 'smokesize', '--out', out, '--target', 'ratio>0']);
  assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
  const j = readJson(out);
  assert.equal(j.scenario, 'size');
  for (const [k, bytes] of [['small', 512], ['large', 20000]]) {
    const s = j[k];
    assert.equal(s.file_bytes, bytes);
    assert.ok(s.accepted > 0 && s.accepted_per_s > 0, JSON.stringify(s));
    assert.equal(s.errors.failed_edits, 0);
    assert.equal(s.server_check.version_mismatches, 0, s.server_check.detail);
    assert.equal(s.server_check.length_mismatches, 0, s.server_check.detail);
  }
  assert.ok(Math.abs(j.ratio - j.large.accepted_per_s / j.small.accepted_per_s) < 0.01);
  assert.equal(j.pass, true);
  const d1 = await curl(`${c.url}/api/v1/courses/${course}/lessons`, auth());
  assert.equal(d1.status, 200);
});

test('a token the API refuses fails setup with exit 1, and the report says why', { timeout: 60000 }, async () => {
  const bad = path.join(c.dir, 'bad-token');
  writeFileSync(bad, 'not-a-token');
  const out = path.join(c.dir, 'bad.json');
  const r = await bench(['edit', 'fanout', '--url', c.url, '--course', String(course), '--token-file', bad,
    '--files', '1', '--subscribers', '1', '--writers', '1', '--duration', '0.5', '--warmup', '0', '--out', out]);
  assert.equal(r.code, 1, `expected exit 1:\n${r.stdout}\n${r.stderr}`);
  const j = readJson(out);
  assert.match(j.setup.error, /HTTP 401/);
  assert.equal(j.pass, false);
});
