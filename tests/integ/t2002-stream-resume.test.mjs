// Resuming through nginx: a client that reconnects with its last id gets
// exactly the events it missed — the same set, in order, none twice — on one
// stream or several on one connection, from the Last-Event-ID header (also as
// EventSource sends it) or the lastEventId parameter, across catch-up pages
// (stream.catchup_batch is small here), and while events keep arriving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import EventSource from 'eventsource';
import { startCluster } from './lib/cluster.mjs';
import { sseReady, append, metrics, until, parsePos, cmpId } from './t2000-stream-helpers.mjs';

let c;
before(async () => {
  c = await startCluster({
    api: false,
    streamEnv: { COHORT_STREAM_CATCHUP_BATCH: '7', COHORT_STREAM_QUEUE_MAX: '64K' },
  });
});
after(async () => { await c?.stop(); });

const url = (streams, extra = '') => `${c.url}/stream/events?streams=${streams}${extra}`;

function assertExact(got, want, what) {
  assert.deepEqual(got, want, `${what}: got ${got.length} ids, want ${want.length}`);
}

test('one stream: the missed events exactly, in order, none twice', { timeout: 30000 }, async () => {
  const s1 = await sseReady(url('dev:t2002-a'));
  const first = await append(c, 't2002-a', 5);
  await s1.waitEvents(5);
  assertExact(s1.events.map((e) => e.data.id), first, 'first session');
  const last = s1.lastId;
  assert.equal(last, `dev:t2002-a=${first[4]}`);
  s1.close();

  const missed = await append(c, 't2002-a', 23, { from: 5 });
  const m0 = await metrics(c.url);
  const s2 = await sseReady(url('dev:t2002-a'), { headers: { 'Last-Event-ID': last } });
  try {
    await s2.waitEvents(23);
    await new Promise((r) => setTimeout(r, 200));
    assertExact(s2.events.map((e) => e.data.id), missed, 'resumed');
    assert.deepEqual(s2.events.map((e) => e.data.data.seq), [...Array(23).keys()].map((i) => i + 5));
    // Each event's id is the position right after it.
    for (const e of s2.events) assert.equal(e.id, `dev:t2002-a=${e.data.id}`);
    // Then live events follow on the same connection.
    const more = await append(c, 't2002-a', 2, { from: 28 });
    await s2.waitEvents(25);
    assertExact(s2.events.slice(23).map((e) => e.data.id), more, 'live after catch-up');
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_resume_requests_total'), m0('cohort_stream_resume_requests_total') + 1);
    assert.ok(m1('cohort_stream_catchup_events_total') >= m0('cohort_stream_catchup_events_total') + 23);
  } finally {
    s2.close();
  }
});

test('two streams on one connection resume independently', { timeout: 30000 }, async () => {
  const streams = 'dev:t2002-x,dev:t2002-y';
  const s1 = await sseReady(url(streams));
  const wx = [], wy = [];
  for (let i = 0; i < 4; i++) {
    wx.push(...await append(c, 't2002-x', 1, { from: i }));
    wy.push(...await append(c, 't2002-y', 2, { from: 10 * i }));
  }
  await s1.waitEvents(12);
  // Order holds within each stream (across streams it depends on how reads group them).
  const of = (s, name) => s.events.filter((e) => e.data.stream === name).map((e) => e.data.id);
  assertExact(of(s1, 'dev:t2002-x'), wx, 'first session, x');
  assertExact(of(s1, 'dev:t2002-y'), wy, 'first session, y');
  const last = s1.lastId;
  const pos = parsePos(last);
  assert.deepEqual(Object.keys(pos), ['dev:t2002-x', 'dev:t2002-y']);
  s1.close();

  const mx = await append(c, 't2002-x', 9, { from: 100 });
  const my = await append(c, 't2002-y', 16, { from: 200 });
  const s2 = await sseReady(url(streams), { headers: { 'Last-Event-ID': last } });
  try {
    await s2.waitEvents(25);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s2.events.length, 25);
    const gx = s2.events.filter((e) => e.data.stream === 'dev:t2002-x').map((e) => e.data.id);
    const gy = s2.events.filter((e) => e.data.stream === 'dev:t2002-y').map((e) => e.data.id);
    assertExact(gx, mx, 'stream x');
    assertExact(gy, my, 'stream y');
    // Every id line names both streams and never goes backwards.
    let prev = pos;
    for (const e of s2.events) {
      const p = parsePos(e.id);
      assert.deepEqual(Object.keys(p), ['dev:t2002-x', 'dev:t2002-y']);
      for (const k of Object.keys(p)) assert.ok(cmpId(p[k], prev[k]) >= 0);
      prev = p;
    }
    assert.equal(s2.lastId, `dev:t2002-x=${mx[8]},dev:t2002-y=${my[15]}`);
  } finally {
    s2.close();
  }
});

test('EventSource resumes by itself with Last-Event-ID', { timeout: 30000 }, async () => {
  const ids = await append(c, 't2002-es', 3);
  // Start from the first event: EventSource sends the header we give it.
  const es = new EventSource(url('dev:t2002-es'), { headers: { 'Last-Event-ID': `dev:t2002-es=${ids[0]}` } });
  const got = [];
  es.onmessage = (m) => got.push(m);
  try {
    await until(() => got.length >= 2, 'two catch-up messages');
    assert.deepEqual(got.map((m) => JSON.parse(m.data).id), ids.slice(1));
    assert.equal(got[1].lastEventId, `dev:t2002-es=${ids[2]}`);
  } finally {
    es.close();
  }
});

test('lastEventId parameter; the header wins over it', { timeout: 30000 }, async () => {
  const ids = await append(c, 't2002-q', 6);
  const s1 = await sseReady(url('dev:t2002-q', `&lastEventId=dev:t2002-q=${ids[1]}`));
  const s2 = await sseReady(url('dev:t2002-q', `&lastEventId=dev:t2002-q=${ids[1]}`),
    { headers: { 'Last-Event-ID': `dev:t2002-q=${ids[3]}` } });
  try {
    await s1.waitEvents(4);
    await s2.waitEvents(2);
    await new Promise((r) => setTimeout(r, 200));
    assertExact(s1.events.map((e) => e.data.id), ids.slice(2), 'query parameter');
    assertExact(s2.events.map((e) => e.data.id), ids.slice(4), 'header over parameter');
  } finally {
    s1.close();
    s2.close();
  }
});

test('streams missing from the id start now; unrequested ones are ignored', { timeout: 30000 }, async () => {
  const a = await append(c, 't2002-m1', 3);
  const b = await append(c, 't2002-m2', 3);
  const resume = `dev:t2002-gone=1-0,dev:t2002-m1=${a[0]}`;
  const s = await sseReady(url('dev:t2002-m1,dev:t2002-m2'), { headers: { 'Last-Event-ID': resume } });
  try {
    await s.waitEvents(2);
    // m2 was not in the id: its start is its newest entry.
    assert.equal(parsePos(s.lastId)['dev:t2002-m2'], b[2]);
    const later = await append(c, 't2002-m2', 1, { from: 50 });
    await s.waitEvents(3);
    await new Promise((r) => setTimeout(r, 200));
    assertExact(s.events.map((e) => e.data.id), [...a.slice(1), ...later], 'only m1 history and later m2');
  } finally {
    s.close();
  }
});

test('resume while events keep arriving: no gap, no duplicate', { timeout: 60000 }, async () => {
  const name = 't2002-race';
  const all = [];
  let writing = true;
  let seq = 0;
  const writer = (async () => {
    while (writing) {
      all.push(...await append(c, name, 3, { from: seq }));
      seq += 3;
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const sessions = [];
  try {
    let resume = null;
    for (let round = 0; round < 6; round++) {
      const headers = resume ? { 'Last-Event-ID': resume } : {};
      const s = await sseReady(url(`dev:${name}`), { headers });
      await new Promise((r) => setTimeout(r, 120 + 40 * round));
      s.close();
      sessions.push(s);
      resume = s.lastId;
    }
  } finally {
    writing = false;
    await writer;
  }
  // A last session collects everything up to the end.
  const tail = await sseReady(url(`dev:${name}`), { headers: { 'Last-Event-ID': sessions.at(-1).lastId } });
  const seen = sessions.flatMap((s) => s.events.map((e) => e.data.id));
  const start = all.indexOf(seen[0]);
  const rest = all.length - start - seen.length;
  await tail.waitEvents(rest, 20000);
  tail.close();
  const got = [...seen, ...tail.events.map((e) => e.data.id)];
  assert.ok(start >= 0, 'the first session saw an appended event');
  assertExact(got, all.slice(start), 'the union of the sessions');
});

test('a resume far behind does not overflow a small queue', { timeout: 60000 }, async () => {
  // 400 events of ~1 KB: 6x stream.queue_max (64K); catch-up is paced by the
  // queue, so the connection is never dropped.
  const first = await append(c, 't2002-big', 1);
  const missed = await append(c, 't2002-big', 400, { from: 1, pad: 1000 });
  const m0 = await metrics(c.url);
  const s = await sseReady(url('dev:t2002-big'), { headers: { 'Last-Event-ID': `dev:t2002-big=${first[0]}` } });
  try {
    await s.waitEvents(400, 30000);
    assertExact(s.events.map((e) => e.data.id), missed, 'paced catch-up');
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_queue_drops_total'), m0('cohort_stream_queue_drops_total'));
    assert.equal(s.ended, false);
  } finally {
    s.close();
  }
});
