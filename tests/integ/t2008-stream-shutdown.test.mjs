// Graceful shutdown: SIGTERM while SSE and WebSocket clients are connected
// and events are flowing ends every connection, closes Redis, frees
// everything and exits 0 (the harness also fails on any sanitizer report);
// the clients then resume on a new streamer without losing an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { sseReady, wsOpen, wsUrl, append, until } from './t2000-stream-helpers.mjs';

test('SIGTERM with clients connected: exit 0, clients resume on the next streamer', { timeout: 90000 }, async () => {
  const c = await startCluster({ api: false });
  try {
    const name = 't2008-a';
    const first = await append(c, name, 50);
    // One client live, one catching up (a big backlog), one WebSocket.
    const live = await sseReady(`${c.url}/stream/events?streams=dev:${name}`);
    const behind = await sseReady(`${c.url}/stream/events?streams=dev:${name}`,
      { headers: { 'Last-Event-ID': `dev:${name}=${first[0]}` } });
    const w = await wsOpen(`${wsUrl(c.url)}/stream/ws?streams=dev:${name}`);
    await w.next((m) => m.type === 'subscribed');
    const more = await append(c, name, 20, { from: 50 });
    await live.waitEvents(20);

    const r = await c.kill('stream0'); // SIGTERM; a non-zero exit is recorded as a failure
    assert.equal(r.code, 0);
    assert.equal(r.signal, null);
    await live.waitEnd();
    await behind.waitEnd();
    await until(() => w.closed, 'the WebSocket to close');
    const log = c.log('stream0');
    assert.match(log, /"event":"stopping"/);
    assert.match(log, /"event":"conn_close".*"reason":"shutdown"/);
    assert.match(log, /"event":"stopped","status":0/);

    // A new streamer on the same port; the live client resumes where it was.
    const after = await append(c, name, 5, { from: 70 });
    await c.startStreamer(0);
    const again = await sseReady(`${c.url}/stream/events?streams=dev:${name}`,
      { headers: { 'Last-Event-ID': live.lastId } });
    try {
      await again.waitEvents(5);
      await new Promise((res) => setTimeout(res, 200));
      assert.deepEqual(again.events.map((e) => e.data.id), after);
      assert.deepEqual(live.events.map((e) => e.data.id), more);
    } finally {
      again.close();
    }
  } finally {
    await c.stop();
  }
});
