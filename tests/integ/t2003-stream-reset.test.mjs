// Trimmed history: a client resuming from a position older than what Redis
// still holds gets an in-band `reset` event (SSE and WebSocket) whose
// position is the stream's newest id, and then live events; a client whose
// position is still inside the retained history gets no reset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import {
  sseReady, wsOpen, wsUrl, append, metrics, streamKey, parsePos,
} from './t2000-stream-helpers.mjs';

let c;
before(async () => { c = await startCluster({ api: false }); });
after(async () => { await c?.stop(); });

const url = (streams) => `${c.url}/stream/events?streams=${streams}`;
const settle = () => new Promise((r) => setTimeout(r, 200));

test('resuming before the first retained entry gives a reset, then live events', { timeout: 30000 }, async () => {
  const name = 't2003-a';
  const ids = await append(c, name, 10);
  await c.redis('XTRIM', streamKey(name), 'MAXLEN', '2'); // keeps ids[8], ids[9]
  const m0 = await metrics(c.url);
  const s = await sseReady(url(`dev:${name},dev:t2003-other`), { headers: { 'Last-Event-ID': `dev:${name}=${ids[2]}` } });
  try {
    await s.waitEvents(1);
    const r = s.events[0];
    assert.deepEqual(r.data, { type: 'reset', stream: `dev:${name}`, data: { reason: 'trimmed' } });
    // The reset moves the position to the newest id; the retained entries are not replayed.
    assert.equal(parsePos(r.id)[`dev:${name}`], ids[9]);
    const live = await append(c, name, 1, { from: 100 });
    await s.waitEvents(2);
    await settle();
    assert.equal(s.events.length, 2);
    assert.equal(s.events[1].data.id, live[0]);
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_resets_total'), m0('cohort_stream_resets_total') + 1);
  } finally {
    s.close();
  }
});

test('a stream trimmed to nothing also resets', { timeout: 30000 }, async () => {
  const name = 't2003-b';
  const ids = await append(c, name, 4);
  await c.redis('XTRIM', streamKey(name), 'MAXLEN', '0');
  assert.equal(await c.redisRaw('XLEN', streamKey(name)), '0');
  const s = await sseReady(url(`dev:${name}`), { headers: { 'Last-Event-ID': `dev:${name}=${ids[0]}` } });
  try {
    await s.waitEvents(1);
    assert.equal(s.events[0].data.type, 'reset');
    assert.equal(s.events[0].id, `dev:${name}=${ids[3]}`);
  } finally {
    s.close();
  }
});

test('no reset while the position is inside retained history', { timeout: 30000 }, async () => {
  const name = 't2003-c';
  const ids = await append(c, name, 10);
  await c.redis('XTRIM', streamKey(name), 'MAXLEN', '5'); // keeps ids[5..9]
  // The client already has ids[5]: nothing it needs was trimmed.
  const s = await sseReady(url(`dev:${name}`), { headers: { 'Last-Event-ID': `dev:${name}=${ids[5]}` } });
  // A client at the newest id has nothing to catch up on and nothing lost.
  const s2 = await sseReady(url(`dev:${name}`), { headers: { 'Last-Event-ID': `dev:${name}=${ids[9]}` } });
  try {
    await s.waitEvents(4);
    await settle();
    assert.deepEqual(s.events.map((e) => e.data.id), ids.slice(6));
    assert.equal(s2.events.length, 0);
    assert.equal(s2.lastId, `dev:${name}=${ids[9]}`);
  } finally {
    s.close();
    s2.close();
  }
});

test('a stream that never had entries is no reason to reset', { timeout: 30000 }, async () => {
  const s = await sseReady(url('dev:t2003-never'), { headers: { 'Last-Event-ID': 'dev:t2003-never=5-0' } });
  try {
    await settle();
    assert.equal(s.events.length, 0);
    assert.equal(s.lastId, 'dev:t2003-never=5-0');
  } finally {
    s.close();
  }
});

test('WebSocket: subscribe with an old position gets the reset inside events', { timeout: 30000 }, async () => {
  const name = 't2003-ws';
  const ids = await append(c, name, 6);
  await c.redis('XTRIM', streamKey(name), 'MAXLEN', '1');
  const w = await wsOpen(`${wsUrl(c.url)}/stream/ws`);
  try {
    w.send({ type: 'subscribe', streams: [`dev:${name}`], after: `dev:${name}=${ids[0]}` });
    const sub = await w.next((m) => m.type === 'subscribed');
    assert.equal(sub.pos, `dev:${name}=${ids[0]}`);
    const m = await w.next((x) => x.type === 'events');
    assert.deepEqual(m.events, [{ type: 'reset', stream: `dev:${name}`, data: { reason: 'trimmed' } }]);
    assert.equal(m.pos, `dev:${name}=${ids[5]}`);
  } finally {
    w.close();
  }
});
