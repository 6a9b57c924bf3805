// The read cache (api/rcache.h, docs/files.md "Read cache"): cohort-api
// answers a hot file read and a token's signed-out check from memory that
// Redis keeps fresh by client-side tracking. Every change — a whole-file
// write, a live edit over REST or the streamer's WebSocket, a rename, a
// delete, a re-create, a write or sign-out through the other cohort-api
// process, a FLUSHALL, a Redis restart — must be in the very next read,
// whichever process and worker thread answers it. Each read is compared with
// what the change must have made, never with an earlier answer.
//
// Two cohort-api processes with four workers each: nginx spreads requests
// over both, and the tests that need one process or the other talk to its
// FastCGI socket directly (t1000's client). The last test runs a cluster of
// its own with api.read_cache=0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl, waitFor } from './lib/cluster.mjs';
import { api, user } from './t1099-api-people-helpers.mjs';
import { fcgiOnce } from './t1000-api-fcgi-client.mjs';
import { wsOpen, wsUrl, sample, until } from './t2000-stream-helpers.mjs';

let c, owner, project, base;
const q = encodeURIComponent;
const THREADS = { COHORT_API_THREADS: '4' };

async function fixture(cl) {
  const o = await user(cl, 'alice');
  await user(cl, 'tess');
  const made = await cl.cliJson('course-create', '--owner', 'tess', 'Course 1');
  const po = (await cl.cliJson('course-join', '--user', 'alice', '--code', made.join_code, '--nickname', 'Alice')).participant.id;
  const l = (await cl.cliJson('lesson-create', made.course.id, 'Lesson 1')).lesson.id;
  const p = (await cl.cliJson('project-ensure', l, po)).project.id;
  return { o, p };
}

before(async () => {
  c = await startCluster({ apis: 2, streamers: 1, env: THREADS });
  const f = await fixture(c);
  owner = f.o;
  project = f.p;
  base = `/api/v1/projects/${project}`;
});
after(async () => { await c?.stop(); });

/** One request to cohort-api number i on its own socket (no nginx). */
async function direct(i, method, uri, { token, body, headers = {}, contentType } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  return fcgiOnce({ path: c.apiSocks[i] }, { method, uri, headers: h, body, contentType });
}

/** The read-cache samples of cohort-api number i. */
async function cacheStats(i) {
  const r = await direct(i, 'GET', '/api/v1/metrics');
  assert.equal(r.status, 200, r.body);
  const s = (n) => sample(r.body, `cohort_api_read_cache_${n}`);
  return {
    hits: s('requests_total{result="hit"}'), misses: s('requests_total{result="miss"}'),
    stored: s('stores_total{result="stored"}'), entries: s('entries'), connected: s('connected'),
    flushes: s('invalidations_total{kind="flush"}'),
  };
}

const fileUri = (p, proj = project) => `/api/v1/projects/${proj}/file?path=${q(p)}`;

/** Short enough for a failure message: the text, or a binary's size and head. */
const show = (b) => (b.length <= 64 && !b.includes(0) ? JSON.stringify(b.toString()) : `${b.length} bytes ${b.subarray(0, 16).toString('hex')}...`);

/** Reads p n times through nginx (both processes, several threads); every
 * answer must be exactly want (a string or Buffer; null: 404). */
async function readsAre(p, want, { n = 6, token = owner.token, cl = c, proj = project } = {}) {
  for (let i = 0; i < n; i++) {
    const r = await curl(`${cl.url}${fileUri(p, proj)}`, { headers: { Authorization: `Bearer ${token}` } });
    if (want === null) {
      assert.equal(r.status, 404, `read ${i} of ${p}: ${r.body}`);
      continue;
    }
    assert.equal(r.status, 200, `read ${i} of ${p}: ${r.body}`);
    const w = Buffer.isBuffer(want) ? want : Buffer.from(want);
    assert.ok(r.raw.equals(w), `read ${i} of ${p}: got ${show(r.raw)}, want ${show(w)}`);
  }
}

/** The same read on one process directly. */
async function readOn(i, p, token = owner.token) {
  return direct(i, 'GET', fileUri(p), { token });
}

async function put(p, body, { ifMatch, binary = false, status, token = owner.token, cl = c, proj = project } = {}) {
  const headers = { 'Content-Type': binary ? 'application/octet-stream' : 'text/plain', Authorization: `Bearer ${token}` };
  if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  const r = await curl(`${cl.url}${fileUri(p, proj)}&parents=1${binary ? '&binary=1' : ''}`, { method: 'PUT', headers, body });
  if (status) assert.equal(r.status, status, r.body);
  else assert.ok(r.status === 201 || r.status === 200, `${r.status} ${r.body}`);
  return r;
}

test('an unchanged file is answered from the cache, the same bytes every time', async () => {
  const text = 'cached once\nread many times\n';
  await put('hot.txt', text, { status: 201 });
  // Warm both processes (the file and the token's signed-out answer).
  for (const i of [0, 1]) assert.equal((await readOn(i, 'hot.txt')).status, 200);
  const before0 = await cacheStats(0);
  assert.equal(before0.connected, 1);
  const N = 12;
  for (let k = 0; k < N; k++) {
    const r = await readOn(0, 'hot.txt');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, text);
    assert.equal(r.headers['x-cohort-version'], '1');
    assert.equal(r.headers.etag, '"1"');
  }
  const after0 = await cacheStats(0);
  // Each read looks up the file and the token's signed-out answer: both hit.
  assert.equal(after0.misses - before0.misses, 0, 'no miss for an unchanged file and token');
  assert.ok(after0.hits - before0.hits >= 2 * N, `hits rose by ${after0.hits - before0.hits}, want >= ${2 * N}`);
  assert.ok(after0.entries >= 2, `entries ${after0.entries}`);
  await readsAre('hot.txt', text, { n: 8 });
});

test('every kind of change is in the very next read', async () => {
  const p = 'doc.txt';
  await put(p, 'hello\n', { status: 201 });
  await readsAre(p, 'hello\n');
  // A whole-file write with If-Match.
  await put(p, 'hello, world\n', { ifMatch: 1, status: 200 });
  await readsAre(p, 'hello, world\n');
  // A refused write (stale If-Match) changes nothing.
  await put(p, 'nope', { ifMatch: 1, status: 412 });
  await readsAre(p, 'hello, world\n');
  // A live edit pushed over REST.
  const r = await api(c, 'POST', `${base}/doc/updates?path=${p}`, {
    token: owner.token, body: { version: 2, updates: [{ clientID: 'c1', changes: [12, [0, '!'], 1] }] },
  });
  assert.equal(r.status, 200, r.body);
  await readsAre(p, 'hello, world!\n');
  // A rename: the old path is gone, the new one has the content.
  let m = await api(c, 'POST', `${base}/move`, { token: owner.token, body: { from: p, to: 'moved.txt' } });
  assert.ok(m.status === 200 || m.status === 201, m.body);
  await readsAre(p, null);
  await readsAre('moved.txt', 'hello, world!\n');
  // And back over a path that was cached as missing.
  m = await api(c, 'POST', `${base}/move`, { token: owner.token, body: { from: 'moved.txt', to: p } });
  assert.ok(m.status === 200 || m.status === 201, m.body);
  await readsAre('moved.txt', null);
  await readsAre(p, 'hello, world!\n');
  // A delete, then a re-create with other content.
  m = await api(c, 'DELETE', fileUri(p), { token: owner.token });
  assert.ok(m.status === 200 || m.status === 204, m.body);
  await readsAre(p, null);
  await put(p, 'born again\n', { status: 201 });
  await readsAre(p, 'born again\n');
  // Deleting a directory drops the files in it.
  await put('dir/a.txt', 'in a dir\n', { status: 201 });
  await readsAre('dir/a.txt', 'in a dir\n');
  m = await api(c, 'DELETE', fileUri('dir'), { token: owner.token });
  assert.ok(m.status === 200 || m.status === 204, m.body);
  await readsAre('dir/a.txt', null);
});

test('binary content is byte-exact, before and after a rewrite', async () => {
  const a = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff));
  const b = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0, 0x80]), a.subarray(0, 1000)]);
  await put('blob.bin', a, { binary: true, status: 201 });
  await readsAre('blob.bin', a);
  const r = await readOn(1, 'blob.bin');
  assert.equal(r.headers['x-cohort-binary'], 'true');
  assert.ok(r.raw.equals(a));
  await put('blob.bin', b, { binary: true, ifMatch: 1, status: 200 });
  await readsAre('blob.bin', b);
  // Empty content is content too.
  await put('blob.bin', Buffer.alloc(0), { binary: true, ifMatch: 2, status: 200 });
  await readsAre('blob.bin', Buffer.alloc(0));
});

test('a write through one cohort-api is in the very next read through the other', { timeout: 120000 }, async () => {
  const p = 'ping-pong.txt';
  await put(p, 'v1', { status: 201 });
  let v = 1;
  for (let k = 0; k < 40; k++) {
    const w = k % 2, rd = 1 - w;
    // Both processes hold the current content first.
    for (const i of [rd, rd, w]) {
      const r = await readOn(i, p);
      assert.equal(r.body, `v${v}`, `round ${k}: before the write, api${i}`);
    }
    let r;
    if (k % 4 < 2) {
      r = await direct(w, 'PUT', fileUri(p), { token: owner.token, body: `v${v + 1}`, contentType: 'text/plain', headers: { 'If-Match': `"${v}"` } });
    } else {
      // A live edit that replaces the whole text.
      const old = `v${v}`;
      r = await direct(w, 'POST', `${base}/doc/updates?path=${p}`, {
        token: owner.token, contentType: 'application/json',
        body: JSON.stringify({ version: v, updates: [{ clientID: `pp${k}`, changes: [[old.length, `v${v + 1}`]] }] }),
      });
    }
    assert.equal(r.status, 200, `round ${k}: write through api${w}: ${r.body}`);
    v++;
    r = await readOn(rd, p);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, `v${v}`, `round ${k}: the very next read through api${rd}`);
    assert.equal(r.headers['x-cohort-version'], String(v));
  }
});

test('a live edit through the streamer\'s WebSocket is in the very next REST read', { timeout: 60000 }, async () => {
  const p = 'ws.txt';
  await put(p, 'hello\n', { status: 201 });
  await readsAre(p, 'hello\n', { n: 8 });
  const w = await wsOpen(`${wsUrl(c.url)}/stream/ws?access_token=${owner.token}`);
  const all = [];
  w.ws.on('message', (m) => all.push(JSON.parse(m.toString())));
  try {
    let text = 'hello\n', ver = 1;
    for (let k = 0; k < 10; k++) {
      const id = `e${k}`;
      w.send({ type: 'push', id, project, path: p, version: ver, updates: [{ clientID: 'wsk', changes: [text.length - 1, [0, String(k)], 1] }] });
      await until(() => all.find((m) => m.id === id && (m.type === 'ack' || m.type === 'error')), `the answer to ${id}`);
      const ans = all.find((m) => m.id === id && (m.type === 'ack' || m.type === 'error'));
      assert.equal(ans.type, 'ack', JSON.stringify(ans));
      ver = ans.version;
      text = `${text.slice(0, -1)}${k}\n`;
      for (const i of [0, 1]) {
        const r = await readOn(i, p);
        assert.equal(r.body, text, `edit ${k}: api${i}`);
      }
      await readsAre(p, text, { n: 2 });
    }
  } finally {
    w.close();
  }
});

test('sign-out is refused on the very next request, through either process', async () => {
  for (let k = 0; k < 4; k++) {
    const tok = (await c.cliJson('mint-token', 'alice')).token;
    // Used on both processes and several threads: "not signed out" is cached.
    for (let j = 0; j < 6; j++) {
      for (const i of [0, 1]) assert.equal((await readOn(i, 'hot.txt', tok)).status, 200, `token ${k}, api${i}`);
    }
    const out = k % 2, other = 1 - out;
    const r = await direct(out, 'DELETE', '/api/v1/sessions', { token: tok });
    assert.equal(r.status, 204, r.body);
    for (const i of [other, out, other, out]) {
      const x = await readOn(i, 'hot.txt', tok);
      assert.equal(x.status, 401, `token ${k} signed out via api${out}, read via api${i}: ${x.body}`);
    }
    for (let j = 0; j < 4; j++) {
      const x = await api(c, 'GET', '/api/v1/me', { token: tok });
      assert.equal(x.status, 401, x.body);
    }
    // Other tokens of the same user are not affected.
    assert.equal((await readOn(other, 'hot.txt')).status, 200);
  }
});

test('FLUSHALL: the next read is 404, not a cached answer', async () => {
  await put('flush.txt', 'soon gone', { status: 201 });
  await readsAre('flush.txt', 'soon gone', { n: 8 });
  const f0 = await cacheStats(0);
  await c.redis('FLUSHALL');
  for (const i of [0, 1, 0, 1]) {
    const r = await readOn(i, 'flush.txt');
    assert.equal(r.status, 404, `api${i} after FLUSHALL: ${r.status} ${r.body}`);
  }
  await readsAre('flush.txt', null);
  await readsAre('hot.txt', null);
  // The flush was seen as one (and the cache works again afterwards).
  assert.ok((await cacheStats(0)).flushes > f0.flushes);
  await put('flush.txt', 'again', { status: 201 });
  await readsAre('flush.txt', 'again', { n: 8 });
});

test('a Redis restart: reads stay correct, a write right after it is in the next read', { timeout: 60000 }, async () => {
  const p = 'restart.txt';
  await put(p, 'before', { status: 201 });
  await readsAre(p, 'before', { n: 8 });
  for (const i of [0, 1]) assert.equal((await readOn(i, p)).body, 'before');
  await c.restartRedis();
  // The first request of either process may meet the broken connection;
  // a write through api1 as soon as it works.
  let r;
  await waitFor(async () => {
    r = await direct(1, 'PUT', fileUri(p), { token: owner.token, body: 'after', contentType: 'text/plain', headers: { 'If-Match': '"1"' } });
    return r.status === 200;
  }, { timeout: 20000, what: `a write through api1 after the restart (last ${r?.status} ${r?.body})` });
  // api0 cached "before" from the old server, which has forgotten its tracking.
  for (let k = 0; k < 8; k++) {
    const x = await readOn(0, p);
    assert.ok(x.status === 200 || x.status === 503, `api0 after the restart: ${x.status} ${x.body}`);
    if (x.status === 200) assert.equal(x.body, 'after', `api0 read ${k} after the restart`);
  }
  await readsAre(p, 'after', { n: 8 });
  // Tracking is back: cached again, and still fresh after the next write.
  await waitFor(async () => (await cacheStats(0)).connected === 1 && (await cacheStats(1)).connected === 1,
    { what: 'both invalidation connections back' });
  await readsAre(p, 'after', { n: 8 });
  const h0 = (await cacheStats(0)).hits;
  await readsAre(p, 'after', { n: 8 });
  assert.ok((await cacheStats(0)).hits + (await cacheStats(1)).hits > h0, 'the cache answers again after the restart');
  r = await direct(0, 'PUT', fileUri(p), { token: owner.token, body: 'after 2', contentType: 'text/plain', headers: { 'If-Match': '"2"' } });
  assert.equal(r.status, 200, r.body);
  assert.equal((await readOn(1, p)).body, 'after 2');
  await readsAre(p, 'after 2', { n: 8 });
});

test('api.read_cache=0: reads are correct and nothing is cached', { timeout: 60000 }, async () => {
  const c0 = await startCluster({ apis: 1, streamers: 0, env: { ...THREADS, COHORT_API_READ_CACHE: '0' } });
  try {
    const f = await fixture(c0);
    const o = { token: f.o.token };
    const at = { cl: c0, proj: f.p, token: o.token };
    await put('a.txt', 'one', { ...at, status: 201 });
    await readsAre('a.txt', 'one', { ...at, n: 8 });
    await put('a.txt', 'two', { ...at, ifMatch: 1, status: 200 });
    await readsAre('a.txt', 'two', { ...at, n: 8 });
    const m = await curl(`${c0.url}/api/v1/metrics`);
    assert.equal(m.status, 200);
    assert.equal(sample(m.body, 'cohort_api_read_cache_requests_total{result="hit"}'), 0);
    assert.equal(sample(m.body, 'cohort_api_read_cache_stores_total{result="stored"}'), 0);
    assert.equal(sample(m.body, 'cohort_api_read_cache_entries'), 0);
    assert.equal(sample(m.body, 'cohort_api_read_cache_bytes'), 0);
    // Sign-out still works without the cache.
    const tok = (await c0.cliJson('mint-token', 'alice')).token;
    await readsAre('a.txt', 'two', { ...at, token: tok, n: 4 });
    assert.equal((await api(c0, 'DELETE', '/api/v1/sessions', { token: tok })).status, 204);
    assert.equal((await api(c0, 'GET', '/api/v1/me', { token: tok })).status, 401);
  } finally {
    await c0.stop();
  }
});
