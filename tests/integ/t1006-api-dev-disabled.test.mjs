// With api.dev_events off (the production default) the development hook does
// not exist for clients: 404 feature_disabled before the body is looked at,
// and nothing is appended. Everything else works as usual.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';

let c;
before(async () => { c = await startCluster({ env: { COHORT_API_DEV_EVENTS: 'false' } }); });
after(async () => { await c?.stop(); });

test('POST /api/v1/dev/events is 404 feature_disabled and appends nothing', async () => {
  const before = await c.redisRaw('DBSIZE');
  for (const [contentType, body] of [
    ['application/json', JSON.stringify({ stream: 'dev:t1006', type: 't', data: 1 })],
    ['application/json', 'not json'],
    ['text/plain', 'x'],
  ]) {
    const r = await curl(`${c.url}/api/v1/dev/events`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    assert.equal(r.status, 404, r.body);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.json().code, 'feature_disabled');
  }
  assert.equal(await c.redisRaw('EXISTS', '{dev:t1006}:events'), '0');
  assert.equal(await c.redisRaw('DBSIZE'), before);
});

test('other routes are unaffected', async () => {
  assert.equal((await curl(`${c.url}/api/v1/health`)).status, 200);
  const m = await curl(`${c.url}/api/v1/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.body, /cohort_api_requests_total\{route="dev_events",status="404"\} 3/);
});
