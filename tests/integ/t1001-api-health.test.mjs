// cohort-api through nginx: health (200, 503 while Redis is down, 200 again
// after it comes back), request ids, metrics that move, and the access log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startCluster, curl, waitFor, BIN_DIR } from './lib/cluster.mjs';

let c;
before(async () => { c = await startCluster(); });
after(async () => { await c?.stop(); });

/** The value of one Prometheus sample (name with its labels), or undefined. */
function sample(text, name) {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ')) return Number(line.slice(name.length + 1));
  }
  return undefined;
}

test('GET /api/v1/health answers 200 with versions', async () => {
  const r = await curl(`${c.url}/api/v1/health`);
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.equal(r.headers['cache-control'], 'no-store');
  const j = r.json();
  assert.equal(j.status, 'ok');
  assert.match(j.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(Object.keys(j.redis).sort(), ['ok', 'version']);
  assert.equal(j.redis.ok, true);
  assert.match(j.redis.version, /^\d+\.\d+\.\d+$/);
  assert.equal(j.database.ok, true);
  assert.match(j.database.version, /^sqlite 3\.\d+/);
  for (const lib of ['hiredis', 'json-c', 'libsodium', 'sqlite']) assert.match(j.libraries[lib], /^\d+\.\d+/, lib);
});

test('HEAD /api/v1/health has the headers of GET and no body', async () => {
  const g = await curl(`${c.url}/api/v1/health`);
  const h = await curl(`${c.url}/api/v1/health`, { args: ['-I'] });
  assert.equal(h.status, 200);
  assert.ok(!h.body.includes('{'), 'no body'); // curl -I writes the head where the body would go
  assert.equal(h.headers['content-length'], String(Buffer.byteLength(g.body)));
});

test('a valid X-Request-Id is echoed, anything else is replaced', async () => {
  const ok = 'client-Chosen_id-0123';
  let r = await curl(`${c.url}/api/v1/health`, { headers: { 'X-Request-Id': ok } });
  assert.equal(r.headers['x-request-id'], ok);

  for (const bad of ['short7c', 'has space in it', 'dots.are.not.ok', 'x'.repeat(65)]) {
    r = await curl(`${c.url}/api/v1/health`, { headers: { 'X-Request-Id': bad } });
    assert.notEqual(r.headers['x-request-id'], bad);
    assert.match(r.headers['x-request-id'], /^[a-z2-7]{16}$/, bad);
  }
  r = await curl(`${c.url}/api/v1/health`, { headers: { 'X-Request-Id': 'x'.repeat(64) } });
  assert.equal(r.headers['x-request-id'], 'x'.repeat(64));

  // Generated ids differ, and problem bodies carry the same id as the header.
  const a = await curl(`${c.url}/api/v1/nope`);
  const b = await curl(`${c.url}/api/v1/nope`);
  assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  assert.equal(a.json().request_id, a.headers['x-request-id']);
  const p = await curl(`${c.url}/api/v1/nope`, { headers: { 'X-Request-Id': ok } });
  assert.equal(p.json().request_id, ok);
});

test('metrics count requests by route and status, with a latency histogram', async () => {
  let m = await curl(`${c.url}/api/v1/metrics`);
  assert.equal(m.status, 200);
  assert.equal(m.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const before = {
    ok: sample(m.body, 'cohort_api_requests_total{route="health",status="200"}') ?? 0,
    none: sample(m.body, 'cohort_api_requests_total{route="none",status="404"}') ?? 0,
    count: sample(m.body, 'cohort_api_request_duration_seconds_count{route="health"}'),
    metrics: sample(m.body, 'cohort_api_requests_total{route="metrics",status="200"}') ?? 0,
  };
  for (let i = 0; i < 3; i++) assert.equal((await curl(`${c.url}/api/v1/health`)).status, 200);
  assert.equal((await curl(`${c.url}/api/v1/does-not-exist`)).status, 404);

  m = await curl(`${c.url}/api/v1/metrics`);
  assert.equal(sample(m.body, 'cohort_api_requests_total{route="health",status="200"}'), before.ok + 3);
  assert.equal(sample(m.body, 'cohort_api_requests_total{route="none",status="404"}'), before.none + 1);
  assert.equal(sample(m.body, 'cohort_api_requests_total{route="metrics",status="200"}'), before.metrics + 1);
  const count = sample(m.body, 'cohort_api_request_duration_seconds_count{route="health"}');
  assert.equal(count, before.count + 3);
  assert.equal(sample(m.body, 'cohort_api_request_duration_seconds_bucket{route="health",le="+Inf"}'), count);
  // Buckets are cumulative and never decrease.
  let prev = 0;
  for (const line of m.body.split('\n').filter((l) => l.startsWith('cohort_api_request_duration_seconds_bucket{route="health"'))) {
    const v = Number(line.split(' ')[1]);
    assert.ok(v >= prev, line);
    prev = v;
  }
  assert.ok(sample(m.body, 'cohort_api_request_duration_seconds_sum{route="health"}') > 0);
  assert.ok(sample(m.body, 'cohort_api_requests_in_flight') >= 1); // this very request
  assert.notEqual(sample(m.body, 'cohort_api_redis_errors_total'), undefined);
  // Every route label is a route name or "none".
  const routes = new Set([...m.body.matchAll(/route="([^"]*)"/g)].map((x) => x[1]));
  const names = execFileSync(path.join(BIN_DIR, 'cohort-api'), ['--routes'], { encoding: 'utf8' })
    .trim().split('\n').map((l) => l.split('\t')[3]);
  assert.deepEqual([...routes].sort(), [...names, 'none'].sort());
});

test('503 while Redis is down, 200 once it is back', async () => {
  const m0 = await curl(`${c.url}/api/v1/metrics`);
  const errors0 = sample(m0.body, 'cohort_api_redis_errors_total');
  await c.stopRedis();
  try {
    const r = await curl(`${c.url}/api/v1/health`);
    assert.equal(r.status, 503);
    assert.match(r.headers['content-type'], /^application\/json/);
    const j = r.json();
    assert.equal(j.status, 'unavailable');
    assert.equal(j.redis.ok, false);
    assert.equal(j.redis.version, null);
    assert.equal(typeof j.redis.error, 'string');
    assert.equal(j.database.ok, true);
    assert.ok(j.libraries.hiredis);
    const m = await curl(`${c.url}/api/v1/metrics`);
    assert.ok(sample(m.body, 'cohort_api_redis_errors_total') > errors0);
    assert.ok(sample(m.body, 'cohort_api_requests_total{route="health",status="503"}') >= 1);
  } finally {
    await c.startRedis();
  }
  // Each worker holds its own Redis connection; a worker that tried while
  // Redis was down waits out a short reconnect backoff, so wait until a run
  // of consecutive requests (spread over the workers) all succeed.
  await waitFor(async () => {
    for (let i = 0; i < 16; i++) {
      const x = await curl(`${c.url}/api/v1/health`);
      if (x.status !== 200) return false;
      assert.equal(x.json().redis.ok, true);
    }
    return true;
  }, { timeout: 5000, what: '16 consecutive health 200s after the Redis restart' });
});

test('one access-log line per request, without query strings or credentials', async () => {
  const rid = 'accesslog-check-0001';
  const r = await curl(`${c.url}/api/v1/health?access_token=qs-secret-123&x=1`, {
    headers: { 'X-Request-Id': rid, Authorization: 'Bearer hdr-secret-456', Cookie: 'cohort_session=cookie-secret-789' },
  });
  assert.equal(r.status, 200);
  const log = await waitFor(() => c.log('api').includes(rid) && c.log('api'), { what: 'access log line' });
  const lines = log.split('\n').filter((l) => l.includes(rid));
  assert.equal(lines.length, 1);
  const e = JSON.parse(lines[0]);
  assert.equal(e.event, 'request');
  assert.equal(e.proc, 'api');
  assert.equal(e.rid, rid);
  assert.equal(e.method, 'GET');
  assert.equal(e.path, '/api/v1/health');
  assert.equal(e.route, 'health');
  assert.equal(e.status, 200);
  assert.equal(typeof e.duration_us, 'number');
  assert.equal(e.bytes, Buffer.byteLength(r.body));
  for (const secret of ['qs-secret-123', 'hdr-secret-456', 'cookie-secret-789']) assert.ok(!log.includes(secret), secret);
  // Every line the API wrote is JSON.
  for (const l of log.split('\n').filter(Boolean)) JSON.parse(l);
});
