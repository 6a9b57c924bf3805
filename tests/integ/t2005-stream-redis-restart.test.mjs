// Redis goes away while clients are connected: the streamer reports 503 on
// health while it cannot read, keeps its clients, reconnects by itself, and
// the clients receive the events appended after Redis is back — in order,
// once, with positions that still resume correctly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';
import { sse, sseReady, wsOpen, wsUrl, append, metrics, until } from './t2000-stream-helpers.mjs';

let c;
before(async () => { c = await startCluster({ api: false, streamEnv: { COHORT_REDIS_TIMEOUT_MS: '1000' } }); });
after(async () => { await c?.stop(); });

const health = async () => (await curl(`${c.url}/stream/health`)).status;

test('clients stay connected across a Redis restart and get later events', { timeout: 60000 }, async () => {
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2005-a,dev:t2005-b`);
  const w = await wsOpen(`${wsUrl(c.url)}/stream/ws?streams=dev:t2005-a`);
  await w.next((m) => m.type === 'subscribed');
  const m0 = await metrics(c.url);
  try {
    const before = await append(c, 't2005-a', 2);
    await s.waitEvents(2);
    assert.equal(await health(), 200);

    await c.stopRedis();
    await until(async () => (await health()) === 503, 'health 503 while Redis is down');
    const h = (await curl(`${c.url}/stream/health`)).json();
    assert.equal(h.redis, 'down');
    const mdown = await metrics(c.url);
    assert.equal(mdown('cohort_stream_redis_up'), 0);
    assert.equal(mdown('cohort_stream_connections{transport="sse"}'), m0('cohort_stream_connections{transport="sse"}'));
    assert.equal(s.ended, false, 'the SSE client is still connected');
    assert.equal(w.closed, null, 'the WebSocket client is still connected');

    await c.startRedis(); // same port, AOF: the streams are still there
    await until(async () => (await health()) === 200, 'health 200 again', 15000);
    const after = await append(c, 't2005-a', 3, { from: 10 });
    const other = await append(c, 't2005-b', 1);
    await s.waitEvents(6, 15000);
    const of = (name) => s.events.filter((e) => e.data.stream === name).map((e) => e.data.id);
    assert.deepEqual(of('dev:t2005-a'), [...before, ...after]);
    assert.deepEqual(of('dev:t2005-b'), other);
    const got = [];
    await until(() => {
      for (const m of w.msgs.splice(0)) if (m.type === 'events') got.push(...m.events.map((e) => e.id));
      return got.length >= 5;
    }, 'WebSocket events after the restart', 15000);
    assert.deepEqual(got, [...before, ...after]);

    // Both Redis connections reconnect (each on its own backoff timer).
    await until(async () => (await metrics(c.url))('cohort_stream_redis_reconnects_total') >=
      m0('cohort_stream_redis_reconnects_total') + 2, 'both Redis connections reconnected', 10000);
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_redis_up'), 1);
    assert.match(c.log('stream0'), /"event":"redis_disconnected"/);
  } finally {
    s.close();
    w.close();
  }
});

test('a client that resumes while Redis is down catches up once it is back', { timeout: 60000 }, async () => {
  const ids = await append(c, 't2005-c', 4);
  await c.stopRedis();
  await until(async () => (await health()) === 503, 'health 503');
  // The subscription waits for Redis; nothing is lost or repeated.
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2005-c`,
    { headers: { 'Last-Event-ID': `dev:t2005-c=${ids[0]}` } });
  try {
    await c.startRedis();
    await s.waitEvents(3, 15000);
    const more = await append(c, 't2005-c', 2, { from: 10 });
    await s.waitEvents(5, 15000);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(s.events.map((e) => e.data.id), [...ids.slice(1), ...more]);
  } finally {
    s.close();
  }
});

test('a new subscription while Redis is down starts once it is back', { timeout: 60000 }, async () => {
  await c.stopRedis();
  await until(async () => (await health()) === 503, 'health 503');
  const s = await sse(`${c.url}/stream/events?streams=dev:t2005-d`);
  // The start position is unknown until Redis answers: headers come first, the id later.
  try {
    assert.equal(s.status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.lastId, null);
    await c.startRedis();
    await until(() => s.lastId !== null, 'the start position', 15000);
    assert.equal(s.lastId, 'dev:t2005-d=0-0');
    const ids = await append(c, 't2005-d', 2);
    await s.waitEvents(2, 15000);
    assert.deepEqual(s.events.map((e) => e.data.id), ids);
  } finally {
    s.close();
  }
});
