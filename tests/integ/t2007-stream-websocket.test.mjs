// The WebSocket transport through nginx: subscribe (also from the query
// string), resume with "after", replace the subscription set, ping/pong, and
// every kind of bad message answered with an error message (the connection
// stays usable); an oversized message closes it with 1009.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { wsOpen, wsUrl, wsEvents, append, metrics, until } from './t2000-stream-helpers.mjs';

let c;
let WS;
before(async () => {
  c = await startCluster({ api: false });
  WS = `${wsUrl(c.url)}/stream/ws`;
});
after(async () => { await c?.stop(); });

const settle = () => new Promise((r) => setTimeout(r, 200));

test('subscribe, then events with their position', { timeout: 30000 }, async () => {
  const old = await append(c, 't2007-a', 2);
  const w = await wsOpen(WS);
  try {
    w.send({ type: 'subscribe', streams: ['dev:t2007-a', 'dev:t2007-b'] });
    const sub = await w.next((m) => m.type === 'subscribed');
    assert.deepEqual(sub, { type: 'subscribed', streams: ['dev:t2007-a', 'dev:t2007-b'], pos: `dev:t2007-a=${old[1]},dev:t2007-b=0-0` });
    const a = await append(c, 't2007-a', 3);
    const b = await append(c, 't2007-b', 1);
    await until(() => wsEvents(w).events.length >= 4, '4 events');
    const { events, pos } = wsEvents(w);
    // In order within each stream.
    assert.deepEqual(events.filter((e) => e.stream === 'dev:t2007-a').map((e) => e.id), a);
    assert.deepEqual(events.filter((e) => e.stream === 'dev:t2007-b').map((e) => e.id), b);
    assert.equal(events.length, 4);
    assert.equal(pos, `dev:t2007-a=${a[2]},dev:t2007-b=${b[0]}`);
    assert.deepEqual(events.find((e) => e.id === b[0]).data, { seq: 0 });
  } finally {
    w.close();
  }
});

test('subscribe with "after" resumes exactly; a new subscribe replaces the set', { timeout: 30000 }, async () => {
  const ids = await append(c, 't2007-r', 9);
  const w = await wsOpen(WS);
  try {
    w.send({ type: 'subscribe', streams: ['dev:t2007-r'], after: `dev:t2007-r=${ids[3]}` });
    await w.next((m) => m.type === 'subscribed');
    await until(() => wsEvents(w).events.length >= 5, 'the missed events');
    assert.deepEqual(wsEvents(w).events.map((e) => e.id), ids.slice(4));
    w.msgs.length = 0;

    // Replace the set: events of the old stream stop, the new one starts now.
    w.send({ type: 'subscribe', streams: ['dev:t2007-s'] });
    const sub = await w.next((m) => m.type === 'subscribed');
    assert.deepEqual(sub.streams, ['dev:t2007-s']);
    await append(c, 't2007-r', 2, { from: 100 });
    const s = await append(c, 't2007-s', 2);
    await until(() => wsEvents(w).events.length >= 2, 'new stream events');
    await settle();
    assert.deepEqual(wsEvents(w).events.map((e) => e.id), s);
  } finally {
    w.close();
  }
});

test('the first subscription may come with the upgrade', { timeout: 30000 }, async () => {
  const ids = await append(c, 't2007-q', 3);
  const w = await wsOpen(`${WS}?streams=dev:t2007-q&lastEventId=dev:t2007-q=${ids[0]}`);
  try {
    const sub = await w.next((m) => m.type === 'subscribed');
    assert.equal(sub.pos, `dev:t2007-q=${ids[0]}`);
    await until(() => wsEvents(w).events.length >= 2, 'catch-up');
    assert.deepEqual(wsEvents(w).events.map((e) => e.id), ids.slice(1));
  } finally {
    w.close();
  }
  // A bad query subscription is reported; the socket stays open.
  const w2 = await wsOpen(`${WS}?streams=nope:x`);
  try {
    const e = await w2.next((m) => m.type === 'error');
    assert.equal(e.code, 'unknown_stream');
    w2.send({ type: 'ping' });
    await w2.next((m) => m.type === 'pong');
  } finally {
    w2.close();
  }
});

test('ping gets pong', { timeout: 30000 }, async () => {
  const w = await wsOpen(WS);
  try {
    w.send({ type: 'ping' });
    w.send({ type: 'ping' });
    await w.next((m) => m.type === 'pong');
  } finally {
    w.close();
  }
});

const bad = [
  { what: 'not JSON', msg: 'hello', code: 'malformed_json' },
  { what: 'a JSON array', msg: '["subscribe"]', code: 'malformed_json' },
  { what: 'no type', msg: '{"streams":[]}', code: 'invalid_field' },
  { what: 'unknown type', msg: '{"type":"shout"}', code: 'invalid_request' },
  { what: 'streams not an array', msg: '{"type":"subscribe","streams":"dev:a"}', code: 'invalid_field' },
  { what: 'a stream that is not a string', msg: '{"type":"subscribe","streams":[1]}', code: 'invalid_field' },
  { what: 'no streams', msg: '{"type":"subscribe","streams":[]}', code: 'invalid_stream' },
  { what: 'a malformed stream', msg: '{"type":"subscribe","streams":["dev:a b"]}', code: 'invalid_stream' },
  { what: 'an unknown stream kind', msg: '{"type":"subscribe","streams":["nope:1"]}', code: 'unknown_stream' },
  { what: 'too many streams', msg: JSON.stringify({ type: 'subscribe', streams: Array.from({ length: 17 }, (_, i) => `dev:w${i}`) }), code: 'limit_exceeded' },
  { what: 'a malformed after', msg: '{"type":"subscribe","streams":["dev:a"],"after":"dev:a=x"}', code: 'invalid_event_id' },
  { what: 'after not a string', msg: '{"type":"subscribe","streams":["dev:a"],"after":1}', code: 'invalid_field' },
];

test('bad messages get an error message; the connection stays usable', { timeout: 30000 }, async () => {
  const w = await wsOpen(WS);
  const m0 = await metrics(c.url);
  try {
    for (const row of bad) {
      w.send(row.msg);
      const e = await w.next((m) => m.type === 'error');
      assert.equal(e.code, row.code, row.what);
      assert.equal(typeof e.detail, 'string', row.what);
    }
    w.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    const e = await w.next((m) => m.type === 'error');
    assert.equal(e.code, 'invalid_request');
    w.send({ type: 'ping' });
    await w.next((m) => m.type === 'pong');
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_ws_bad_messages_total'), m0('cohort_stream_ws_bad_messages_total') + bad.length + 1);
    assert.ok(m1('cohort_stream_ws_messages_in_total') >= m0('cohort_stream_ws_messages_in_total') + bad.length + 1);
  } finally {
    w.close();
  }
});

test('an oversized message closes the connection with 1009', { timeout: 30000 }, async () => {
  const w = await wsOpen(WS, { maxPayload: 1 << 20 });
  try {
    // Up to WSMSG_MAX (256 KiB) is fine, assembled from many frames' worth of reads...
    w.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(200000) }));
    await w.next((m) => m.type === 'pong');
    // ...beyond it the connection closes.
    w.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(300000) }));
    await until(() => w.closed, 'the close');
    assert.equal(w.closed.code, 1009);
  } finally {
    w.close();
  }
});
