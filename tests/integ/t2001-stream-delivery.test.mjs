// cohort-stream delivery through nginx: events posted to the API (and
// appended to Redis directly, as producers do) reach EventSource clients and WebSocket
// clients with the same envelope; the first position names every stream;
// heartbeats keep idle connections alive; one Redis reader per process;
// metrics and health.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import EventSource from 'eventsource';
import { startCluster, curl } from './lib/cluster.mjs';
import {
  sseReady, wsOpen, wsUrl, append, metrics, until, quiesce, streamKey, stored,
} from './t2000-stream-helpers.mjs';

let c;
before(async () => {
  c = await startCluster({ streamEnv: { COHORT_STREAM_HEARTBEAT_S: '1' } });
});
after(async () => { await c?.stop(); });

async function post(stream, type, data) {
  const r = await curl(`${c.url}/api/v1/dev/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ stream, type, data }),
  });
  assert.equal(r.status, 201, r.body);
  return r.json().id;
}

test('EventSource receives posted events in order with composite ids', { timeout: 30000 }, async () => {
  const es = new EventSource(`${c.url}/stream/events?streams=dev:t2001-a`);
  const got = [];
  es.onmessage = (m) => got.push({ lastEventId: m.lastEventId, data: JSON.parse(m.data) });
  try {
    await until(() => es.readyState === EventSource.OPEN, 'EventSource open');
    // The start position arrives before any event; give it a moment.
    await until(async () => (await metrics(c.url))('cohort_stream_streams_followed') >= 1, 'the stream followed');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await post('dev:t2001-a', 'note.added', { n: i, s: 'h\u00e9 \u{1F600}\n' }));
    await until(() => got.length >= 3, '3 messages');
    assert.equal(got.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.equal(got[i].data.id, ids[i]);
      assert.equal(got[i].lastEventId, `dev:t2001-a=${ids[i]}`);
      assert.equal(got[i].data.type, 'note.added');
      assert.equal(got[i].data.stream, 'dev:t2001-a');
      assert.deepEqual(got[i].data.data, { n: i, s: 'h\u00e9 \u{1F600}\n' });
      assert.deepEqual(got[i].data.actor, { user: null, client: null });
      assert.ok(Number.isInteger(got[i].data.ts.recv) && Number.isInteger(got[i].data.ts.pub));
    }
  } finally {
    es.close();
  }
});

test('the SSE response: headers, the start position, then events', { timeout: 30000 }, async () => {
  const before = await append(c, 't2001-b', 2);
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2001-b,dev:t2001-empty`);
  try {
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    assert.equal(s.headers['cache-control'], 'no-cache');
    // The first position names every stream: the last entry, or 0-0 when empty.
    assert.equal(s.lastId, `dev:t2001-b=${before[1]},dev:t2001-empty=0-0`);
    assert.equal(s.idBlocks, 1);
    assert.equal(s.events.length, 0, 'history before the connection is not replayed');
    const ids = await append(c, 't2001-b', 2, { from: 10 });
    await s.waitEvents(2);
    const e1 = await append(c, 't2001-empty', 1);
    await s.waitEvents(3);
    assert.deepEqual(s.events.map((e) => e.data.id), [...ids, ...e1]);
    assert.equal(s.events[0].id, `dev:t2001-b=${ids[0]},dev:t2001-empty=0-0`);
    assert.equal(s.events[1].id, `dev:t2001-b=${ids[1]},dev:t2001-empty=0-0`);
    assert.equal(s.events[2].id, `dev:t2001-b=${ids[1]},dev:t2001-empty=${e1[0]}`);
    assert.deepEqual(s.events.map((e) => e.data.data.seq), [10, 11, 0]);
    // One event per data line: the envelope is one line of JSON.
    for (const e of s.events) assert.ok(!e.raw.includes('\n'));
  } finally {
    s.close();
  }
});

test('stored envelopes with raw line breaks still arrive as one data line', { timeout: 30000 }, async () => {
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2001-nl`);
  try {
    const pretty = JSON.stringify(JSON.parse(stored('t2001-nl', 't', { a: [1, 2] })), null, 2);
    assert.ok(pretty.includes('\n'));
    const id = await c.redisRaw('XADD', streamKey('t2001-nl'), '*', 'e', pretty);
    // Entries without a usable envelope are skipped, not fatal.
    await c.redis('XADD', streamKey('t2001-nl'), '*', 'x', 'no envelope');
    await c.redis('XADD', streamKey('t2001-nl'), '*', 'e', '[1,2]');
    const [last] = await append(c, 't2001-nl', 1);
    await s.waitEvents(2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.events.length, 2);
    assert.equal(s.events[0].data.id, id);
    assert.deepEqual(s.events[0].data.data, { a: [1, 2] });
    assert.equal(s.events[1].data.id, last);
  } finally {
    s.close();
  }
});

test('WebSocket receives the same envelopes', { timeout: 30000 }, async () => {
  const w = await wsOpen(`${wsUrl(c.url)}/stream/ws`);
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2001-c`);
  try {
    w.send({ type: 'subscribe', streams: ['dev:t2001-c'] });
    const sub = await w.next((m) => m.type === 'subscribed');
    assert.deepEqual(sub.streams, ['dev:t2001-c']);
    assert.equal(sub.pos, 'dev:t2001-c=0-0');
    const [id] = await append(c, 't2001-c', 1);
    const m = await w.next((x) => x.type === 'events');
    assert.equal(m.pos, `dev:t2001-c=${id}`);
    assert.equal(m.events.length, 1);
    await s.waitEvents(1);
    // Byte for byte the same envelope on both transports.
    assert.equal(JSON.stringify(m.events[0]), s.events[0].raw);
    assert.equal(m.events[0].id, id);
  } finally {
    w.close();
    s.close();
  }
});

test('idle connections get heartbeats (SSE comments, WebSocket pings)', { timeout: 30000 }, async () => {
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2001-hb`);
  const w = await wsOpen(`${wsUrl(c.url)}/stream/ws`);
  try {
    await until(() => s.comments.includes(': hb') && w.pings >= 1, 'a heartbeat on both', 6000);
    assert.equal(s.events.length, 0);
  } finally {
    s.close();
    w.close();
  }
});

test('each streamer reads Redis once, whatever the number of clients', { timeout: 30000 }, async () => {
  const clients = [];
  const m0 = await metrics(c.url);
  try {
    for (let i = 0; i < 10; i++) {
      const url = i % 2 ? c.url : c.streamUrls[0]; // through nginx and directly
      clients.push(await sseReady(`${url}/stream/events?streams=dev:t2001-fan,dev:t2001-fan${i}`));
    }
    const list = await c.redisRaw('CLIENT', 'LIST');
    const names = list.split('\n').map((l) => /name=(\S*)/.exec(l)?.[1]).filter((n) => n?.startsWith('cohort-stream'));
    // One reader and one command connection for the process.
    assert.deepEqual(names.sort(), ['cohort-stream-command', 'cohort-stream-reader']);
    const ids = await append(c, 't2001-fan', 5);
    for (const s of clients) {
      await s.waitEvents(5);
      assert.deepEqual(s.events.map((e) => e.data.id), ids);
    }
    const m = await metrics(c.url);
    assert.equal(m('cohort_stream_connections_total{transport="sse"}'),
      m0('cohort_stream_connections_total{transport="sse"}') + 10);
    assert.ok(m('cohort_stream_streams_followed') >= 11);
  } finally {
    for (const s of clients) s.close();
  }
});

test('metrics move, health is ok, connections are counted and released', { timeout: 30000 }, async () => {
  const url = c.streamUrls[0];
  await quiesce(url);
  const m0 = await metrics(url);
  const s = await sseReady(`${url}/stream/events?streams=dev:t2001-m`);
  const w = await wsOpen(`${wsUrl(url)}/stream/ws?streams=dev:t2001-m`);
  await w.next((x) => x.type === 'subscribed');
  const ids = await append(c, 't2001-m', 4);
  await s.waitEvents(4);
  await until(() => w.msgs.filter((x) => x.type === 'events').reduce((n, x) => n + x.events.length, 0) >= 4, 'ws events');
  const m1 = await metrics(url);
  assert.equal(m1('cohort_stream_connections{transport="sse"}'), m0('cohort_stream_connections{transport="sse"}') + 1);
  assert.equal(m1('cohort_stream_connections{transport="ws"}'), m0('cohort_stream_connections{transport="ws"}') + 1);
  assert.equal(m1('cohort_stream_connections_total{transport="sse"}'), m0('cohort_stream_connections_total{transport="sse"}') + 1);
  assert.ok(m1('cohort_stream_events_in_total') >= m0('cohort_stream_events_in_total') + 4);
  assert.ok(m1('cohort_stream_events_out_total') >= m0('cohort_stream_events_out_total') + 8);
  assert.ok(m1('cohort_stream_bytes_out_total') > m0('cohort_stream_bytes_out_total'));
  assert.equal(m1('cohort_stream_redis_up'), 1);
  assert.equal(s.events.length, 4);
  assert.deepEqual(s.events.map((e) => e.data.id), ids);

  const h = await curl(`${c.url}/stream/health`);
  assert.equal(h.status, 200);
  assert.equal(h.json().status, 'ok');
  assert.equal(h.json().redis, 'up');

  s.close();
  w.close();
  // A closed client is noticed within about a second.
  await quiesce(url, 5000);
  // The log has one line per open and close, and never a token.
  const log = c.log('stream0');
  assert.match(log, /"event":"conn_open".*"transport":"sse"/);
  assert.match(log, /"event":"conn_close".*"reason":"peer"/);
});

test('two streamers side by side each read Redis once and deliver everything', { timeout: 60000 }, async () => {
  // Directly, without nginx: each instance serves its own clients.
  const c2 = await startCluster({ api: false, nginx: false, streamers: 2 });
  const clients = [];
  try {
    for (let i = 0; i < 6; i++) clients.push(await sseReady(`${c2.streamUrls[i % 2]}/stream/events?streams=dev:t2001-two`));
    const list = await c2.redisRaw('CLIENT', 'LIST');
    const names = list.split('\n').map((l) => /name=(\S*)/.exec(l)?.[1]).filter((n) => n?.startsWith('cohort-stream'));
    assert.deepEqual(names.sort(), ['cohort-stream-command', 'cohort-stream-command', 'cohort-stream-reader', 'cohort-stream-reader']);
    const ids = await append(c2, 't2001-two', 7);
    for (const s of clients) {
      await s.waitEvents(7);
      assert.deepEqual(s.events.map((e) => e.data.id), ids);
    }
    for (const url of c2.streamUrls) {
      const m = await metrics(url);
      assert.equal(m('cohort_stream_connections{transport="sse"}'), 3);
      assert.equal(m('cohort_stream_events_in_total'), 7);
    }
  } finally {
    for (const s of clients) s.close();
    await c2.stop();
  }
});
