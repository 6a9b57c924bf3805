// A slow consumer through nginx: a client that stops reading is closed once
// its queue exceeds stream.queue_max (counted as a queue drop), without
// slowing a healthy client on the same stream; what it did receive is a
// gap-free prefix, and resuming from its last id yields exactly the rest.
//
// Events are appended in steps smaller than the queue bound, each once the
// healthy client has everything so far: a single burst larger than
// stream.queue_max overflows every client that cannot absorb it at once,
// which is the bound doing its job, not a slow consumer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { sseReady, append, metrics, until, quiesce } from './t2000-stream-helpers.mjs';

let c;
before(async () => {
  c = await startCluster({ api: false, streamEnv: { COHORT_STREAM_QUEUE_MAX: '64K' } });
});
after(async () => { await c?.stop(); });

const url = (name) => `${c.url}/stream/events?streams=dev:${name}`;

test('a client that stops reading is dropped; it resumes exactly', { timeout: 120000 }, async () => {
  const name = 't2004-slow';
  await quiesce(c.streamUrls[0]);
  const m0 = await metrics(c.url);
  const slow = await sseReady(url(name));
  const healthy = await sseReady(url(name));
  slow.res.pause(); // stop reading: kernel buffers, then nginx's, then ours fill up
  const all = [];
  try {
    // 32 KB per step until the streamer gives up on the slow client.
    for (let round = 0; round < 3000; round++) {
      all.push(...await append(c, name, 8, { from: all.length, pad: 4000 }));
      await healthy.waitEvents(all.length, 10000);
      if (round % 10) continue;
      const m = await metrics(c.url);
      if (m('cohort_stream_queue_drops_total') > m0('cohort_stream_queue_drops_total')) break;
    }
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_queue_drops_total'), m0('cohort_stream_queue_drops_total') + 1, 'one drop');
    assert.match(c.log('stream0'), /"event":"conn_overflow"/);

    // The healthy client was not held back: it gets everything.
    await healthy.waitEvents(all.length, 60000);
    assert.deepEqual(healthy.events.map((e) => e.data.id), all);

    // The slow client's stream ends after what was already on its way.
    slow.res.resume();
    await slow.waitEnd(30000);
    const got = slow.events.map((e) => e.data.id);
    assert.ok(got.length < all.length, `the slow client got ${got.length} of ${all.length}`);
    assert.deepEqual(got, all.slice(0, got.length), 'a gap-free prefix');
    if (got.length) assert.equal(slow.lastId, `dev:${name}=${got.at(-1)}`);

    // Resuming from its last position gives exactly the rest.
    const again = await sseReady(url(name), { headers: { 'Last-Event-ID': slow.lastId } });
    try {
      await again.waitEvents(all.length - got.length, 60000);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(again.events.map((e) => e.data.id), all.slice(got.length));
    } finally {
      again.close();
    }
  } finally {
    slow.close();
    healthy.close();
  }
  await quiesce(c.streamUrls[0]);
  const m2 = await metrics(c.url);
  assert.equal(m2('cohort_stream_connections{transport="sse"}'), 0);
});

test('a WebSocket client that stops reading is dropped too', { timeout: 120000 }, async () => {
  const name = 't2004-ws';
  const m0 = await metrics(c.url);
  // A raw socket: send the upgrade, then never read again.
  const net = await import('node:net');
  const port = Number(new URL(c.url).port);
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise((r) => sock.once('connect', r));
  sock.write(`GET /stream/ws?streams=dev:${name} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise((r) => sock.once('data', r));
  sock.pause();
  let closed = false;
  sock.on('close', () => { closed = true; });
  const healthy = await sseReady(`${c.url}/stream/events?streams=dev:${name}`);
  try {
    await until(async () => (await metrics(c.url))('cohort_stream_streams_followed') >= 1, 'subscribed');
    for (let round = 0, n = 0; round < 3000; round++, n += 8) {
      await append(c, name, 8, { from: n, pad: 4000 });
      await healthy.waitEvents(n + 8, 10000);
      if (round % 10) continue;
      const m = await metrics(c.url);
      if (m('cohort_stream_queue_drops_total') > m0('cohort_stream_queue_drops_total')) break;
    }
    const m1 = await metrics(c.url);
    assert.equal(m1('cohort_stream_queue_drops_total'), m0('cohort_stream_queue_drops_total') + 1);
    sock.resume();
    sock.on('data', () => {});
    await until(() => closed, 'the socket to close', 30000);
  } finally {
    sock.destroy();
    healthy.close();
  }
});
