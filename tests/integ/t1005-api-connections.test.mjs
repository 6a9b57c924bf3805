// cohort-api's connection handling with 2 worker threads: many more
// concurrent web-server connections than threads, kept-alive connections
// reused after refused or unread bodies, idle connections evicted when the
// pool is full, and a SIGTERM that lets in-flight requests finish and does
// not wait for idle connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startCluster, curl, sleep, waitFor } from './lib/cluster.mjs';
import { FcgiConn } from './t1000-api-fcgi-client.mjs';

const MAX = 1024;
const SLOTS = 32; // api.max_conns below (the default, 512, would take too many sockets here)
let c;
before(async () => {
  c = await startCluster({ apiEnv: { COHORT_API_THREADS: '2', COHORT_API_MAX_CONNS: String(SLOTS), COHORT_API_MAX_BODY: String(MAX) } });
});
after(async () => { await c?.stop(); });

const sock = () => ({ path: c.apiSock });
const event = (stream, data = 1) => JSON.stringify({ stream, type: 't', data });
const postEvent = (conn, body) => conn.request({ method: 'POST', uri: '/api/v1/dev/events', contentType: 'application/json', body });

test('one kept-alive connection serves request after request, whatever the bodies', async () => {
  const conn = await FcgiConn.connect(sock());
  try {
    const steps = [
      // [what, request, status]
      ['refused body (over api.max_body)', { method: 'POST', uri: '/api/v1/dev/events', contentType: 'application/json', body: 'x'.repeat(64 * MAX) }, 413],
      ['health', {}, 200],
      ['event', { method: 'POST', uri: '/api/v1/dev/events', contentType: 'application/json', body: event('dev:t1005-k') }, 201],
      ['no route, body never read', { method: 'POST', uri: '/api/v1/nope', body: 'y'.repeat(500) }, 404],
      ['wrong media type, body never read', { method: 'POST', uri: '/api/v1/dev/events', contentType: 'text/plain', body: 'z'.repeat(900) }, 415],
      ['GET with a body', { uri: '/api/v1/health', body: 'q'.repeat(MAX) }, 200],
      ['body without Content-Length', { method: 'POST', uri: '/api/v1/dev/events', contentType: 'application/json', body: event('dev:t1005-k'), omitContentLength: true }, 201],
      ['Content-Length over the limit, refused before reading', { method: 'POST', uri: '/api/v1/dev/events', contentType: 'application/json', body: 'w'.repeat(4 * MAX) }, 413],
      ['metrics', { uri: '/api/v1/metrics' }, 200],
    ];
    for (const [what, req, status] of steps) {
      const r = await conn.request(req);
      assert.equal(r.status, status, `${what}: ${r.body}`);
      assert.equal(r.protocolStatus, 0);
    }
    assert.equal(conn.closed, false, 'the server kept the connection');
    assert.equal(await c.redisRaw('XLEN', '{dev:t1005-k}:events'), '2');
  } finally {
    await conn.close();
  }
});

test('many more connections than threads are all served', async () => {
  const conns = await Promise.all(Array.from({ length: 24 }, () => FcgiConn.connect(sock())));
  try {
    // Every connection sends at once; two threads take turns over them.
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(conns.map((k, i) => (i % 3 === 0 ? postEvent(k, event('dev:t1005-m', i)) : k.request({}))));
      rs.forEach((r, i) => assert.equal(r.status, i % 3 === 0 ? 201 : 200, `round ${round} conn ${i}`));
    }
    assert.equal(await c.redisRaw('XLEN', '{dev:t1005-m}:events'), String(3 * 8));
  } finally {
    await Promise.all(conns.map((k) => k.close()));
  }
});

test('through nginx: 60 concurrent requests on 2 threads all succeed', async () => {
  const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2
    ? curl(`${c.url}/api/v1/health`)
    : curl(`${c.url}/api/v1/dev/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: event('dev:t1005-n', i) }))));
  rs.forEach((r, i) => assert.equal(r.status, i % 2 ? 200 : 201, `request ${i}: ${r.body}`));
  assert.equal(await c.redisRaw('XLEN', '{dev:t1005-n}:events'), '30');
});

test('when every slot holds an idle connection, the longest idle one makes room', async () => {
  const conns = [];
  try {
    for (let i = 0; i < SLOTS + 8; i++) {
      const k = await FcgiConn.connect(sock());
      conns.push(k);
      const r = await k.request({});
      assert.equal(r.status, 200, `connection ${i}`);
    }
    // nginx holds some slots too, so at least the 8 oldest of ours were closed.
    await waitFor(() => conns.slice(0, 8).every((k) => k.closed), { timeout: 5000, what: 'oldest idle connections closed' });
    // The newest are still open and usable.
    for (const k of conns.slice(-4)) {
      assert.equal(k.closed, false);
      assert.equal((await k.request({})).status, 200);
    }
  } finally {
    await Promise.all(conns.map((k) => k.close()));
  }
});

test('SIGTERM lets in-flight requests finish, then exits 0', async () => {
  const conns = await Promise.all(Array.from({ length: 4 }, () => FcgiConn.connect(sock())));
  // Accepted, kept-alive connections: what the server has accepted is what it
  // owes an answer (a connection still in the listen backlog is not).
  for (const k of conns) assert.equal((await k.request({})).status, 200);
  // Redis holds every write for 1.5 s, so the appends below are in flight
  // (inside XADD, or queued behind the two busy threads) when the signal arrives.
  await c.redis('CLIENT', 'PAUSE', '1500', 'WRITE');
  const t0 = Date.now();
  const inflight = conns.map((k, i) => postEvent(k, event('dev:t1005-g', i)));
  await sleep(300);
  const stopped = c.kill('api'); // SIGTERM; fails the cluster if the exit code is not 0
  const rs = await Promise.all(inflight);
  rs.forEach((r, i) => assert.equal(r.status, 201, `in-flight ${i}: ${r.body}`));
  assert.ok(Date.now() - t0 >= 1200, 'the answers waited for Redis');
  const exit = await stopped;
  assert.equal(exit.code, 0);
  assert.equal(await c.redisRaw('XLEN', '{dev:t1005-g}:events'), '4');
  await waitFor(() => conns.every((k) => k.closed), { timeout: 5000, what: 'connections closed by the stopped server' });
  const log = c.log('api');
  assert.match(log, /"event":"stopping"/);
  assert.match(log, /"event":"stopped","status":0/);
});

test('idle kept-alive connections do not hold up a stop', async () => {
  await c.startApi();
  const conns = await Promise.all(Array.from({ length: 6 }, () => FcgiConn.connect(sock())));
  for (const k of conns) assert.equal((await k.request({})).status, 200);
  // nginx keeps its own idle connections open as well.
  for (let i = 0; i < 4; i++) assert.equal((await curl(`${c.url}/api/v1/health`)).status, 200);
  const t0 = Date.now();
  const exit = await c.kill('api');
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 3000, `stopped in ${Date.now() - t0} ms`);
  await waitFor(() => conns.every((k) => k.closed), { timeout: 5000, what: 'idle connections closed' });
  await c.startApi(); // leave a running API for the cluster's own stop
  assert.equal((await curl(`${c.url}/api/v1/health`)).status, 200);
});

test('connections that never send a request hold up neither new connections nor requests', async () => {
  // Three sockets connect and stay silent (a stuck or hostile local client).
  const silent = await Promise.all([0, 1, 2].map(() => new Promise((resolve, reject) => {
    const s = net.createConnection(c.apiSock, () => resolve(s));
    s.on('error', reject);
  })));
  try {
    await sleep(200);
    // New connections are accepted and served meanwhile, more of them than
    // there are threads.
    const conns = await Promise.all([0, 1, 2, 3].map(() => FcgiConn.connect(sock())));
    try {
      const answers = await Promise.race([
        Promise.all(conns.map((conn) => conn.request({ uri: '/api/v1/health' }))),
        sleep(5000).then(() => { throw new Error('no answer within 5 s while silent connections are open'); }),
      ]);
      for (const r of answers) assert.equal(r.status, 200, r.body);
    } finally {
      for (const conn of conns) conn.close();
    }
  } finally {
    for (const s of silent) s.destroy();
  }
});
