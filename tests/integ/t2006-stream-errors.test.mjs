// Requests cohort-stream refuses, through nginx: each with its status, a
// problem+json body and the stable code; nothing is left open afterwards.
// Also: dev scopes disabled by configuration, and the connection limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';
import { sseReady, metrics, quiesce, wsOpen, wsUrl } from './t2000-stream-helpers.mjs';

let c;
before(async () => { c = await startCluster({ api: false }); });
after(async () => { await c?.stop(); });

const seventeen = Array.from({ length: 17 }, (_, i) => `dev:s${i}`).join(',');

const rows = [
  { what: 'no streams parameter', path: '/stream/events', status: 400, code: 'invalid_stream' },
  { what: 'empty streams', path: '/stream/events?streams=', status: 400, code: 'invalid_stream' },
  { what: 'unknown kind', path: '/stream/events?streams=projects:1', status: 400, code: 'unknown_stream' },
  { what: 'project scope without a token', path: '/stream/events?streams=project:1', status: 401, code: 'unauthenticated' },
  { what: 'non-canonical project id', path: '/stream/events?streams=project:01', status: 400, code: 'invalid_stream' },
  { what: 'malformed Authorization header', path: '/stream/events?streams=dev:a', headers: { Authorization: 'Basic eDp5' }, status: 401, code: 'invalid_token' },
  { what: 'garbage token', path: '/stream/events?streams=dev:a&access_token=abc', status: 401, code: 'invalid_token' },
  { what: 'unknown kind among good ones', path: '/stream/events?streams=dev:a,nope:b', status: 400, code: 'unknown_stream' },
  { what: 'no kind', path: '/stream/events?streams=abc', status: 400, code: 'invalid_stream' },
  { what: 'empty item', path: '/stream/events?streams=dev:a,,dev:b', status: 400, code: 'invalid_stream' },
  { what: 'trailing comma', path: '/stream/events?streams=dev:a,', status: 400, code: 'invalid_stream' },
  { what: 'space in a name', path: '/stream/events?streams=dev:a%20b', status: 400, code: 'invalid_stream' },
  { what: 'brace in a name', path: '/stream/events?streams=dev:a%7D', status: 400, code: 'invalid_stream' },
  { what: 'name too long', path: `/stream/events?streams=dev:${'x'.repeat(65)}`, status: 400, code: 'invalid_stream' },
  { what: 'duplicate stream', path: '/stream/events?streams=dev:a,dev:a', status: 400, code: 'invalid_stream' },
  { what: 'too many streams', path: `/stream/events?streams=${seventeen}`, status: 413, code: 'limit_exceeded' },
  { what: 'malformed Last-Event-ID', path: '/stream/events?streams=dev:a', headers: { 'Last-Event-ID': 'garbage' }, status: 400, code: 'invalid_event_id' },
  { what: 'bare entry id as Last-Event-ID', path: '/stream/events?streams=dev:a', headers: { 'Last-Event-ID': '1712345678901-0' }, status: 400, code: 'invalid_event_id' },
  { what: 'malformed lastEventId', path: '/stream/events?streams=dev:a&lastEventId=dev:a=1-', status: 400, code: 'invalid_event_id' },
  { what: 'unknown path', path: '/stream/nope', status: 404, code: 'no_route' },
  { what: 'path with a trailing slash', path: '/stream/events/', status: 404, code: 'no_route' },
  { what: 'POST to events', path: '/stream/events?streams=dev:a', method: 'POST', body: '{}', status: 405, code: 'method_not_allowed' },
  { what: 'plain GET of the WebSocket endpoint', path: '/stream/ws', status: 400, code: 'invalid_request' },
];

for (const row of rows) {
  test(`refused: ${row.what}`, { timeout: 20000 }, async () => {
    const r = await curl(c.url + row.path, { method: row.method, headers: row.headers, body: row.body });
    assert.equal(r.status, row.status, r.body);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    const j = r.json();
    assert.equal(j.code, row.code);
    assert.equal(j.status, row.status);
    assert.equal(j.type, `urn:cohort:problem:${row.code}`);
    assert.equal(typeof j.title, 'string');
    if (row.status !== 404 && row.status !== 405) assert.equal(typeof j.detail, 'string');
  });
}

test('refusals leave nothing open and the streamer keeps serving', { timeout: 20000 }, async () => {
  await quiesce(c.streamUrls[0]);
  const m = await metrics(c.url);
  assert.equal(m('cohort_stream_connections{transport="sse"}'), 0);
  assert.equal(m('cohort_stream_streams_followed'), 0);
  const s = await sseReady(`${c.url}/stream/events?streams=dev:t2006-ok`);
  assert.equal(s.lastId, 'dev:t2006-ok=0-0');
  s.close();
  assert.equal((await curl(`${c.url}/stream/health`)).status, 200);
});

test('the details name the offending stream', async () => {
  const r = await curl(`${c.url}/stream/events?streams=dev:a,zz:b`);
  assert.equal(r.json().detail, "unknown stream: 'zz:b'");
  const r2 = await curl(`${c.url}/stream/events?streams=${seventeen}`);
  assert.equal(r2.json().detail, 'at most 16 streams per connection');
});

test('dev scopes disabled by configuration; the connection limit', { timeout: 60000 }, async () => {
  const c2 = await startCluster({
    api: false,
    streamEnv: { COHORT_API_DEV_EVENTS: 'false', COHORT_STREAM_MAX_CONNS: '2' },
  });
  try {
    const r = await curl(`${c2.url}/stream/events?streams=dev:a`);
    assert.equal(r.status, 400);
    assert.equal(r.json().code, 'unknown_stream');

    // With dev scopes off nothing can be followed; the limit still counts
    // WebSocket connections (which may subscribe later).
    const w1 = await wsOpen(`${wsUrl(c2.url)}/stream/ws`);
    const w2 = await wsOpen(`${wsUrl(c2.url)}/stream/ws`);
    const r3 = await curl(`${c2.url}/stream/events?streams=dev:a`);
    assert.equal(r3.status, 503);
    assert.equal(r3.json().code, 'unavailable');
    await assert.rejects(wsOpen(`${wsUrl(c2.url)}/stream/ws`));
    w1.send({ type: 'subscribe', streams: ['dev:a'] });
    const e = await w1.next((m) => m.type === 'error');
    assert.equal(e.code, 'unknown_stream');
    const m = await metrics(c2.url);
    assert.ok(m('cohort_stream_connections_rejected_total') >= 2);
    w1.close();
    w2.close();
  } finally {
    await c2.stop();
  }
});
