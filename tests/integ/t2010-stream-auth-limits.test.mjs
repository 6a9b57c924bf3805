// cohort-stream authorization under pressure: stream.auth_pending_max bounds
// the checks under way (503 beyond, nothing sent before the answer), a check
// waiting for Redis (the signed-out test) completes once Redis is back, and a
// streamer whose token keyring or database cannot be loaded exits 1 with a
// clear log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, curl, freePort, sleep, BIN_DIR } from './lib/cluster.mjs';
import { sse, metrics } from './t2000-stream-helpers.mjs';

test('pending authorizations are bounded; parked requests finish once Redis answers', { timeout: 60000 }, async () => {
  const c = await startCluster({ api: false, streamEnv: { COHORT_STREAM_AUTH_PENDING_MAX: '2' } });
  try {
    await c.cliJson('user-create', 'dana', 'Dana');
    const tok = (await c.cliJson('mint-token', 'dana')).token;
    const url = `${c.url}/stream/events?streams=dev:p`;
    const headers = { Authorization: `Bearer ${tok}` };
    assert.equal((await curl(`${url}&access_token=x`)).status, 401); // the streamer is up and checks tokens

    // Without Redis the signed-out check cannot be answered: the checks stay pending.
    await c.stopRedis();
    const parked = [sse(url, { headers }), sse(url, { headers })];
    let settled = 0;
    parked.forEach((p) => p.then(() => { settled++; }, () => { settled++; }));
    await sleep(500);
    assert.equal(settled, 0, 'no response before the authorization answered');
    const r = await curl(url, { headers });
    assert.equal(r.status, 503, r.body);
    assert.equal(r.json().code, 'unavailable');
    assert.match(r.json().detail, /authorizations pending/);
    let m = await metrics(c.streamUrls[0]);
    assert.equal(m('cohort_stream_auth_pending'), 2);
    assert.equal(m('cohort_stream_auth_busy_total'), 1);
    // Anonymous dev requests need no check and are not bounded by it.
    const anon = await curl(`${c.streamUrls[0]}/stream/health`);
    assert.ok([200, 503].includes(anon.status));

    await c.startRedis();
    const streams = await Promise.all(parked);
    assert.deepEqual(streams.map((s) => s.status), [200, 200]);
    streams.forEach((s) => s.close());
    // The bound is free again.
    const again = await sse(url, { headers });
    assert.equal(again.status, 200);
    again.close();
    m = await metrics(c.streamUrls[0]);
    assert.equal(m('cohort_stream_auth_pending'), 0);
    assert.ok(m('cohort_stream_auth_checks_total') >= 4);
  } finally {
    await c.stop();
  }
});

function runStream(env) {
  return new Promise((resolve) => {
    execFile(path.join(BIN_DIR, 'cohort-stream'), [], { env, timeout: 20000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }));
  });
}

test('a missing token secret or an unusable database: exit 1 with auth_setup_failed', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cohort-stream-auth-'));
  try {
    const base = {
      PATH: process.env.PATH,
      ASAN_OPTIONS: 'detect_leaks=1:exitcode=66',
      COHORT_REDIS_HOST: '127.0.0.1',
      COHORT_REDIS_PORT: String(await freePort()),
      COHORT_STREAM_HOST: '127.0.0.1',
      COHORT_STREAM_PORT: String(await freePort()),
      COHORT_DB_PATH: path.join(dir, 'cohort.db'),
    };
    const noSecret = await runStream({ ...base, COHORT_AUTH_SECRET_FILE: path.join(dir, 'missing.secret') });
    assert.equal(noSecret.code, 1, noSecret.stderr);
    assert.match(noSecret.stderr, /"event":"auth_setup_failed"/);
    assert.doesNotMatch(noSecret.stderr, /"event":"listening"/);

    const secret = path.join(dir, 'jwt.secret');
    await new Promise((resolve, reject) => execFile(path.join(BIN_DIR, 'cohort'), ['init-secret'],
      { env: { ...base, COHORT_AUTH_SECRET_FILE: secret } }, (err) => (err ? reject(err) : resolve())));
    const noDb = await runStream({ ...base, COHORT_AUTH_SECRET_FILE: secret,
      COHORT_DB_PATH: path.join(dir, 'no', 'such', 'dir', 'cohort.db') });
    assert.equal(noDb.code, 1, noDb.stderr);
    assert.match(noDb.stderr, /"event":"auth_setup_failed"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
