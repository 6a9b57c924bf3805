// Limits with a small api.max_body (1 KiB, set through the environment) and a
// small events.maxlen: bodies at and over the limit, chunked uploads, the
// connection staying usable after a refused body, and stream capping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';

const MAX = 1024;
let c;
before(async () => {
  c = await startCluster({ apiEnv: { COHORT_API_MAX_BODY: String(MAX) }, env: { COHORT_EVENTS_MAXLEN: '10' } });
});
after(async () => { await c?.stop(); });

const key = (name) => `{dev:${name}}:events`;

/** A valid dev event body of exactly n bytes. */
function bodyOf(n, stream) {
  const head = JSON.stringify({ stream, type: 't', data: '' }).slice(0, -2); // ..."data":"
  const pad = n - head.length - 2;
  assert.ok(pad >= 0);
  const s = `${head}${'x'.repeat(pad)}"}`;
  assert.equal(Buffer.byteLength(s), n);
  return s;
}

const post = (body, args = []) => curl(`${c.url}/api/v1/dev/events`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body, args,
});

test('a body of exactly api.max_body is accepted, one byte more is 413', async () => {
  const ok = await post(bodyOf(MAX, 'dev:t1004-a'));
  assert.equal(ok.status, 201, ok.body);
  const r = await post(bodyOf(MAX + 1, 'dev:t1004-b'));
  assert.equal(r.status, 413);
  assert.equal(r.json().code, 'body_too_large');
  assert.ok(r.json().detail.includes(String(MAX)));
  assert.equal(await c.redisRaw('EXISTS', key('t1004-b')), '0');
  assert.equal(await c.redisRaw('XLEN', key('t1004-a')), '1');
});

test('a chunked upload over the limit is 413 and appends nothing', async () => {
  const r = await post(bodyOf(20 * MAX, 'dev:t1004-c'), ['-H', 'Transfer-Encoding: chunked']);
  assert.equal(r.status, 413);
  assert.equal(r.json().code, 'body_too_large');
  assert.equal(await c.redisRaw('EXISTS', key('t1004-c')), '0');
  const ok = await post(bodyOf(MAX, 'dev:t1004-c'), ['-H', 'Transfer-Encoding: chunked']);
  assert.equal(ok.status, 201, ok.body);
});

test('the limit applies before routing, to any route', async () => {
  const r = await curl(`${c.url}/api/v1/health`, { method: 'POST', body: 'x'.repeat(MAX + 1) });
  assert.equal(r.status, 413);
  assert.equal(r.json().code, 'body_too_large');
});

test('refused bodies leave the kept-alive connections usable', async () => {
  // Interleave refused and accepted requests: a refused body that stayed in
  // a kept-alive connection would break the next request sent on it.
  for (let i = 0; i < 12; i++) {
    const big = await post(bodyOf(i % 2 ? 8 * MAX : 64 * MAX, 'dev:t1004-d'));
    assert.equal(big.status, 413, `refused ${i}`);
    const g = await curl(`${c.url}/api/v1/health`, { method: 'GET', body: 'y'.repeat(MAX) }); // a body GET does not read
    assert.equal(g.status, 200, `health ${i}`);
    const ok = await post(bodyOf(200, 'dev:t1004-d'));
    assert.equal(ok.status, 201, `accepted ${i}: ${ok.body}`);
  }
  assert.equal(await c.redisRaw('XLEN', key('t1004-d')), '12');
});

test('streams are capped near events.maxlen', async () => {
  for (let i = 0; i < 300; i++) assert.equal((await post(bodyOf(100, 'dev:t1004-cap'))).status, 201);
  const n = Number(await c.redisRaw('XLEN', key('t1004-cap')));
  // MAXLEN ~ trims whole stream nodes (100 entries by default): the length
  // stays within one node of the cap, far below what was appended.
  assert.ok(n >= 10 && n <= 10 + 100, `XLEN ${n}`);
});
