// POST /api/v1/dev/events through nginx: the stored envelope in Redis, and
// every way a request can be refused — each with its exact status and code,
// and nothing appended.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';

let c;
before(async () => { c = await startCluster(); });
after(async () => { await c?.stop(); });

const key = (name) => `{dev:${name}}:events`;

function post(body, { contentType = 'application/json' } = {}) {
  // contentType null: no Content-Type at all ("-H 'Content-Type:'" removes
  // the one curl would add for --data-binary).
  const opts = contentType === null ? { args: ['-H', 'Content-Type:'] } : { headers: { 'Content-Type': contentType } };
  return curl(`${c.url}/api/v1/dev/events`, { method: 'POST', body, ...opts });
}

/** [{id, e}] of a stream, e parsed. */
async function entries(name) {
  const raw = await c.redisRaw('XRANGE', key(name), '-', '+');
  const lines = raw ? raw.split('\n') : [];
  const out = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    assert.equal(lines[i + 1], 'e');
    out.push({ id: lines[i], e: JSON.parse(lines[i + 2]) });
  }
  return out;
}

test('an event is appended with the stored envelope and its id is returned', async () => {
  const data = { n: 1, text: 'h\u00e9llo \u{1F600}', list: [1, 2.5, null, true], nested: { a: { b: [] } } };
  const t0 = Date.now() * 1000;
  const r = await post(JSON.stringify({ stream: 'dev:t1002-a', type: 'note.added', data }));
  const t1 = Date.now() * 1000;
  assert.equal(r.status, 201);
  assert.match(r.headers['content-type'], /^application\/json/);
  const j = r.json();
  assert.deepEqual(Object.keys(j).sort(), ['id', 'stream']);
  assert.match(j.id, /^\d+-\d+$/);
  assert.equal(j.stream, 'dev:t1002-a');

  const got = await entries('t1002-a');
  assert.equal(got.length, 1);
  assert.equal(got[0].id, j.id);
  const e = got[0].e;
  assert.equal(e.id, undefined, 'stored without its id');
  assert.equal(e.type, 'note.added');
  assert.equal(e.stream, 'dev:t1002-a');
  assert.equal(e.project, null);
  assert.deepEqual(e.actor, { user: null, client: null });
  assert.deepEqual(e.data, data);
  assert.ok(Number.isInteger(e.ts.recv) && Number.isInteger(e.ts.pub));
  assert.ok(e.ts.recv <= e.ts.pub, 'received before published');
  assert.ok(e.ts.recv >= t0 - 1e6 && e.ts.pub <= t1 + 1e6, 'microsecond wall-clock stamps');
});

test('ids increase, any JSON value is accepted as data, unknown fields are ignored', async () => {
  const ids = [];
  const values = [null, 0, -1.5e-3, 'x', [], {}, [{ a: 'b' }], true, 'a"b\\c\n\u0001'];
  for (const data of values) {
    const r = await post(JSON.stringify({ stream: 'dev:t1002-b', type: 't', data, extra: 'ignored' }),
      { contentType: 'application/json; charset=utf-8' });
    assert.equal(r.status, 201, JSON.stringify(data));
    ids.push(r.json().id);
  }
  const got = await entries('t1002-b');
  assert.deepEqual(got.map((x) => x.id), ids);
  assert.deepEqual(got.map((x) => x.e.data), values);
  const n = (id) => id.split('-').map(BigInt);
  for (let i = 1; i < ids.length; i++) {
    const [a, b] = [n(ids[i - 1]), n(ids[i])];
    assert.ok(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]), `${ids[i - 1]} < ${ids[i]}`);
  }
});

const good = { stream: 'dev:t1002-bad', type: 't', data: 1 };
const with_ = (o) => JSON.stringify({ ...good, ...o });
const without = (k) => JSON.stringify(Object.fromEntries(Object.entries(good).filter(([x]) => x !== k)));

const bad = [
  // [name, body, status, code, detail substring, contentType]
  ['text/plain', JSON.stringify(good), 415, 'unsupported_media', 'application/json', 'text/plain'],
  ['no content type', JSON.stringify(good), 415, 'unsupported_media', null, null],
  ['form encoded', 'stream=dev:x', 415, 'unsupported_media', null, 'application/x-www-form-urlencoded'],
  ['empty body', '', 400, 'malformed_json'],
  ['not JSON', 'hello', 400, 'malformed_json'],
  ['truncated', '{"stream":"dev:t1002-bad"', 400, 'malformed_json'],
  ['an array', '[1]', 400, 'malformed_json'],
  ['trailing garbage', JSON.stringify(good) + 'x', 400, 'malformed_json'],
  ['single quotes', "{'stream':'dev:t1002-bad'}", 400, 'malformed_json'],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"stream":"dev:t1002-bad","type":"t","data":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 400, 'invalid_utf8'],
  ['UTF-16 surrogate as UTF-8', Buffer.concat([Buffer.from('{"stream":"dev:t1002-bad","type":"t","data":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 400, 'invalid_utf8'],
  ['missing stream', without('stream'), 422, 'invalid_field', 'stream'],
  ['numeric stream', with_({ stream: 7 }), 422, 'invalid_field', 'stream'],
  ['null stream', with_({ stream: null }), 422, 'invalid_field', 'stream'],
  ['missing type', without('type'), 422, 'invalid_field', 'type'],
  ['numeric type', with_({ type: 1 }), 422, 'invalid_field', 'type'],
  ['empty type', with_({ type: '' }), 422, 'invalid_field', 'type'],
  ['upper-case type', with_({ type: 'Note' }), 422, 'invalid_field', 'type'],
  ['type with a space', with_({ type: 'a b' }), 422, 'invalid_field', 'type'],
  ['type of 65 characters', with_({ type: 'a'.repeat(65) }), 422, 'invalid_field', 'type'],
  ['missing data', without('data'), 422, 'invalid_field', 'data'],
  ['stream without a kind', with_({ stream: 't1002-bad' }), 400, 'invalid_stream'],
  ['stream without a name', with_({ stream: 'dev:' }), 400, 'invalid_stream'],
  ['stream with a space', with_({ stream: 'dev:a b' }), 400, 'invalid_stream'],
  ['stream with a slash', with_({ stream: 'dev:a/b' }), 400, 'invalid_stream'],
  ['stream name of 65 characters', with_({ stream: 'dev:' + 'a'.repeat(65) }), 400, 'invalid_stream'],
  ['stream of another kind', with_({ stream: 'project:1' }), 400, 'unknown_stream'],
  ['stream of an unknown kind', with_({ stream: 'nope:1' }), 400, 'unknown_stream'],
  ['data over 64 KiB', with_({ data: 'x'.repeat(65536) }), 413, 'limit_exceeded', 'data'],
  ['body over api.max_body', with_({ data: 'x'.repeat((1 << 20) + 1) }), 413, 'body_too_large'],
];

test('bad requests get their exact status and code, and append nothing', async () => {
  const before = await c.redisRaw('DBSIZE');
  for (const [name, body, status, code, detail, contentType] of bad) {
    const r = await post(body, { contentType: contentType === undefined ? 'application/json' : contentType });
    assert.equal(r.status, status, `${name}: ${r.body}`);
    assert.equal(r.headers['content-type'], 'application/problem+json', name);
    const p = r.json();
    assert.equal(p.code, code, name);
    assert.equal(p.status, status, name);
    assert.equal(p.type, `urn:cohort:problem:${code}`, name);
    assert.equal(typeof p.title, 'string', name);
    assert.equal(p.request_id, r.headers['x-request-id'], name);
    if (detail) assert.ok(p.detail && p.detail.includes(detail), `${name}: detail ${p.detail}`);
  }
  assert.equal(await c.redisRaw('EXISTS', key('t1002-bad')), '0');
  assert.equal(await c.redisRaw('DBSIZE'), before, 'no key was created');
});

test('503 redis_error while Redis is down; appends work right after it restarts', async () => {
  for (let i = 0; i < 8; i++) assert.equal((await post(with_({ stream: 'dev:t1002-r' }))).status, 201);
  await c.stopRedis();
  try {
    const r = await post(with_({ stream: 'dev:t1002-r', data: 'while down' }));
    assert.equal(r.status, 503);
    assert.equal(r.json().code, 'redis_error');
  } finally {
    await c.startRedis();
  }
  // Redis keeps its data (AOF). Requests in the next moment may still meet a
  // worker's reconnect backoff; after that every worker's stale connection is
  // replaced before use, so no append is lost to it.
  await new Promise((res) => setTimeout(res, 300));
  for (let i = 0; i < 16; i++) {
    const r = await post(with_({ stream: 'dev:t1002-r', data: i }));
    assert.equal(r.status, 201, r.body);
  }
  const got = await entries('t1002-r');
  assert.equal(got.length, 8 + 16);
  assert.ok(!got.some((x) => x.e.data === 'while down'));
});

test('appends after a Redis restart with no request in between all succeed', async () => {
  for (let i = 0; i < 16; i++) assert.equal((await post(with_({ stream: 'dev:t1002-s' }))).status, 201);
  await c.restartRedis();
  for (let i = 0; i < 16; i++) {
    const r = await post(with_({ stream: 'dev:t1002-s', data: i }));
    assert.equal(r.status, 201, `request ${i} after the restart: ${r.body}`);
  }
  assert.equal((await entries('t1002-s')).length, 32);
});
