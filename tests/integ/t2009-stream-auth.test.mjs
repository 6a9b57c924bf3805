// cohort-stream authentication and scope authorization, through nginx:
// tokens in the Authorization header, the access_token parameter and the
// session cookie, on SSE and on the WebSocket upgrade; who may follow a
// project, lesson or personal stream (grants take effect on the next
// subscribe); forged, expired, signed-out and missing tokens; WebSocket
// subscribe messages checked the same way; and the loop keeps serving
// while many authorizations are under way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { startCluster, curl } from './lib/cluster.mjs';
import { sse, sseReady, wsOpen, wsUrl, until, streamKey, stored, metrics } from './t2000-stream-helpers.mjs';

let c;
let demo;
const tok = {};
const uid = {};
let parts;
let lesson;
let projA; // alice's lesson-1 project
let projB; // bob's

const enc = (path) => c.url + path;
const events = (streams, extra = '') => enc(`/stream/events?streams=${streams}${extra}`);
const bearer = (t) => ({ Authorization: `Bearer ${t}` });

before(async () => {
  c = await startCluster();
  demo = await c.cliJson('seed-demo');
  for (const u of demo.users) {
    uid[u.login] = u.id;
    tok[u.login] = (await c.cliJson('mint-token', u.login)).token;
  }
  const eve = await c.cliJson('user-create', 'eve', 'Eve');
  uid.eve = eve.user?.id ?? eve.id;
  tok.eve = (await c.cliJson('mint-token', 'eve')).token;
  lesson = demo.lessons[0].id;
  parts = Object.fromEntries((await c.cliJson('participants', demo.course.id)).participants.map((p) => [p.login, p.id]));
  projA = (await c.cliJson('project-ensure', lesson, parts.alice)).project.id;
  projB = (await c.cliJson('project-ensure', lesson, parts.bob)).project.id;
});
after(async () => { await c?.stop(); });

/** A stored envelope on a project stream. */
function projectEvent(id, type, data) {
  const ts = Date.now() * 1000;
  return JSON.stringify({ type, project: id, actor: { user: null, client: null }, ts: { recv: ts, pub: ts }, data });
}

async function status(url, headers = {}) {
  const s = await sse(url, { headers });
  s.close();
  return { status: s.status, body: s.body };
}

/** Waits until a refused SSE request's body is complete and returns it parsed. */
async function refused(url, headers = {}) {
  const r = await curl(url, { headers });
  assert.match(r.headers['content-type'], /^application\/problem\+json/);
  return { status: r.status, code: r.json().code, detail: r.json().detail };
}

async function localToken(claims, { secret, exp } = {}) {
  const key = secret ?? Buffer.from(readFileSync(c.env().COHORT_AUTH_SECRET_FILE, 'utf8').trim(), 'hex');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('cohort').setAudience('cohort').setSubject(claims.sub)
    .setIssuedAt(now - 10).setExpirationTime(exp ?? now + 600)
    .sign(key);
}

test('SSE: a token in each of the three places opens the owner\'s project stream; events arrive', { timeout: 30000 }, async () => {
  const ways = [
    { what: 'Authorization header', url: events(`project:${projA}`), headers: bearer(tok.alice) },
    { what: 'access_token parameter', url: events(`project:${projA}`, `&access_token=${tok.alice}`), headers: {} },
    { what: 'session cookie', url: events(`project:${projA}`), headers: { Cookie: `a=b; cohort_session=${tok.alice}; c=d` } },
  ];
  const streams = [];
  for (const w of ways) {
    const s = await sseReady(w.url, { headers: w.headers });
    assert.equal(s.status, 200, `${w.what}: ${s.body}`);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    streams.push(s);
  }
  await c.redis('XADD', `{p:${projA}}:events`, '*', 'e', projectEvent(projA, 'probe', { n: 1 }));
  for (const [i, s] of streams.entries()) {
    const [ev] = await s.waitEvents(1);
    assert.equal(ev.data.type, 'probe', ways[i].what);
    assert.equal(ev.data.data.n, 1);
    s.close();
  }
});

test('WebSocket: a token in each of the three places authorizes subscribe messages', { timeout: 30000 }, async () => {
  const base = wsUrl(c.url) + '/stream/ws';
  const ways = [
    { what: 'Authorization header', url: base, opts: { headers: bearer(tok.alice) } },
    { what: 'access_token parameter', url: `${base}?access_token=${tok.alice}`, opts: {} },
    { what: 'session cookie', url: base, opts: { headers: { Cookie: `cohort_session=${tok.alice}` } } },
  ];
  const sockets = [];
  for (const w of ways) {
    const s = await wsOpen(w.url, w.opts);
    s.send({ type: 'subscribe', streams: [`project:${projA}`] });
    const m = await s.next((x) => x.type === 'subscribed' || x.type === 'error');
    assert.equal(m.type, 'subscribed', `${w.what}: ${JSON.stringify(m)}`);
    sockets.push(s);
  }
  await c.redis('XADD', `{p:${projA}}:events`, '*', 'e', projectEvent(projA, 'wsprobe', {}));
  for (const s of sockets) {
    const m = await s.next((x) => x.type === 'events');
    assert.equal(m.events[0].type, 'wsprobe');
    s.close();
  }
  // The upgrade's own streams parameter is authorized the same way.
  const q = await wsOpen(`${base}?streams=project:${projA}`, { headers: bearer(tok.alice) });
  assert.equal((await q.next((x) => x.type === 'subscribed' || x.type === 'error')).type, 'subscribed');
  q.close();
  const anon = await wsOpen(`${base}?streams=project:${projA}`);
  const e = await anon.next((x) => x.type === 'error');
  assert.equal(e.code, 'unauthenticated');
  anon.close();
});

test('another student\'s project: 403 until the owner grants read, 403 again after revoking', { timeout: 30000 }, async () => {
  let r = await refused(events(`project:${projA}`), bearer(tok.bob));
  assert.deepEqual([r.status, r.code], [403, 'forbidden']);
  assert.match(r.detail, new RegExp(`project:${projA}`));
  await c.cliJson('grant', projA, parts.bob, 'r', '--by', parts.alice);
  const s = await sseReady(events(`project:${projA}`), { headers: bearer(tok.bob) });
  assert.equal(s.status, 200, s.body);
  s.close();
  await c.cliJson('revoke', projA, parts.bob);
  r = await refused(events(`project:${projA}`), bearer(tok.bob));
  assert.deepEqual([r.status, r.code], [403, 'forbidden']);
  // Carol never had a grant; the teacher reads every student's project.
  assert.equal((await refused(events(`project:${projB}`), bearer(tok.carol))).status, 403);
  const t = await sseReady(events(`project:${projB}`), { headers: bearer(tok.teacher) });
  assert.equal(t.status, 200);
  t.close();
  // One refused scope refuses the whole request.
  assert.equal((await refused(events(`project:${projA},project:${projB}`), bearer(tok.alice))).status, 403);
  // Unknown projects are not found.
  assert.deepEqual(Object.values(await refused(events('project:999999'), bearer(tok.alice))).slice(0, 2), [404, 'not_found']);
});

test('lesson streams: members and admins; others 403; unknown 404', { timeout: 30000 }, async () => {
  for (const who of ['alice', 'teacher', 'admin']) {
    const s = await sseReady(events(`lesson:${lesson}`), { headers: bearer(tok[who]) });
    assert.equal(s.status, 200, `${who}: ${s.body}`);
    s.close();
  }
  assert.deepEqual(Object.values(await refused(events(`lesson:${lesson}`), bearer(tok.eve))).slice(0, 2), [403, 'forbidden']);
  assert.equal((await refused(events('lesson:999999'), bearer(tok.alice))).status, 404);
});

test('personal streams: only their user (and admins)', { timeout: 30000 }, async () => {
  const s = await sseReady(events(`user:${uid.alice}`), { headers: bearer(tok.alice) });
  assert.equal(s.status, 200);
  await c.redis('XADD', `{u:${uid.alice}}:events`, '*', 'e', projectEvent(null, 'grant', { read: true }));
  assert.equal((await s.waitEvents(1))[0].data.type, 'grant');
  s.close();
  assert.deepEqual(Object.values(await refused(events(`user:${uid.bob}`), bearer(tok.alice))).slice(0, 2), [403, 'forbidden']);
  assert.equal((await refused(events(`user:${uid.alice}`), bearer(tok.teacher))).status, 403);
  const a = await sseReady(events(`user:${uid.alice}`), { headers: bearer(tok.admin) });
  assert.equal(a.status, 200);
  a.close();
});

test('bad tokens: forged, expired, unknown subject, signed out, malformed; anonymous', { timeout: 30000 }, async () => {
  const url = events(`project:${projA}`);
  const m0 = await metrics(c.url);
  // A token a standard library mints with the real secret is accepted.
  const good = await localToken({ sub: 'alice', jti: 'jose-1' });
  assert.equal((await status(url, bearer(good))).status, 200);

  const rows = [
    { what: 'forged (other secret)', t: await localToken({ sub: 'alice' }, { secret: Buffer.alloc(32, 7) }), code: 'invalid_token' },
    { what: 'expired', t: await localToken({ sub: 'alice' }, { exp: Math.floor(Date.now() / 1000) - 3600 }), code: 'invalid_token' },
    { what: 'unknown subject', t: await localToken({ sub: 'nobody' }), code: 'invalid_token' },
    { what: 'garbage', t: 'a.b.c', code: 'invalid_token' },
  ];
  for (const row of rows) {
    for (const [how, u, h] of [['header', url, bearer(row.t)], ['parameter', `${url}&access_token=${row.t}`, {}],
      ['cookie', url, { Cookie: `cohort_session=${row.t}` }]]) {
      const r = await refused(u, h);
      assert.deepEqual([r.status, r.code], [401, row.code], `${row.what} in the ${how}`);
    }
  }
  // Even a dev stream refuses a bad token (a token is checked whenever one is sent).
  assert.equal((await refused(events('dev:x'), bearer(rows[0].t))).status, 401);

  // Signed out: the jti is in Redis.
  const out = await localToken({ sub: 'alice', jti: 'signed-out-1' });
  assert.equal((await status(url, bearer(out))).status, 200);
  await c.redis('SET', 'auth:revoked:signed-out-1', '1', 'EX', '600');
  assert.deepEqual(Object.values(await refused(url, bearer(out))).slice(0, 2), [401, 'invalid_token']);
  // A WebSocket with it is refused on every subscribe, not only the first.
  const w = await wsOpen(wsUrl(c.url) + '/stream/ws', { headers: bearer(out) });
  for (let i = 0; i < 2; i++) {
    w.send({ type: 'subscribe', streams: [`project:${projA}`] });
    assert.equal((await w.next((x) => x.type === 'error' || x.type === 'subscribed')).code, 'invalid_token');
  }
  w.close();

  // No token at all: every non-dev kind needs one.
  for (const sc of [`project:${projA}`, `lesson:${lesson}`, `user:${uid.alice}`, 'project:999999']) {
    const r = await refused(events(sc));
    assert.deepEqual([r.status, r.code], [401, 'unauthenticated'], sc);
  }
  // Dev scopes stay open to anonymous clients.
  assert.equal((await status(events('dev:anon'))).status, 200);
  // A disabled user's token stops working.
  await c.cliJson('user-disable', 'carol');
  assert.deepEqual(Object.values(await refused(url, bearer(tok.carol))).slice(0, 2), [403, 'user_disabled']);
  await c.cliJson('user-enable', 'carol');
  const m1 = await metrics(c.url);
  assert.ok(m1('cohort_stream_auth_refused_total') - m0('cohort_stream_auth_refused_total') >= 17);
  assert.ok(m1('cohort_stream_auth_checks_total') > m0('cohort_stream_auth_checks_total'));
});

test('WebSocket subscribe messages are authorized before the subscription changes', { timeout: 30000 }, async () => {
  const w = await wsOpen(wsUrl(c.url) + '/stream/ws', { headers: bearer(tok.alice) });
  w.send({ type: 'subscribe', streams: [`project:${projA}`] });
  assert.equal((await w.next((x) => x.type === 'subscribed')).streams[0], `project:${projA}`);
  w.send({ type: 'subscribe', streams: [`project:${projB}`] });
  const e = await w.next((x) => x.type === 'error');
  assert.equal(e.code, 'forbidden');
  // Still subscribed to the old set: its events keep coming.
  await c.redis('XADD', `{p:${projA}}:events`, '*', 'e', projectEvent(projA, 'still', {}));
  assert.equal((await w.next((x) => x.type === 'events')).events[0].type, 'still');
  w.send({ type: 'subscribe', streams: [`user:${uid.alice}`, `lesson:${lesson}`] });
  assert.deepEqual((await w.next((x) => x.type === 'subscribed')).streams, [`user:${uid.alice}`, `lesson:${lesson}`]);
  w.close();

  // A bad token on the upgrade: the socket opens, subscriptions needing it are refused.
  const bad = await wsOpen(wsUrl(c.url) + '/stream/ws?access_token=nope');
  bad.send({ type: 'subscribe', streams: [`project:${projA}`] });
  assert.equal((await bad.next((x) => x.type === 'error')).code, 'invalid_token');
  bad.close();
});

test('authorizing 20 connections at once does not hold up an open stream', { timeout: 60000 }, async () => {
  const dev = await sseReady(events('dev:lat'));
  assert.equal(dev.status, 200);
  // Latency per event: its send time (in the envelope) to its arrival here.
  const lat = [];
  let during = false;
  const burstLat = [];
  dev.res.on('data', (chunk) => {
    for (const m of chunk.toString().matchAll(/"at":(\d+)/g)) {
      const d = Date.now() - Number(m[1]);
      lat.push(d);
      if (during) burstLat.push(d);
    }
  });
  let stop = false;
  let sent = 0;
  const pump = (async () => {
    while (!stop) {
      await c.redis('XADD', streamKey('lat'), '*', 'e', stored('lat', 't', { at: Date.now(), n: sent++ }));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await until(() => dev.events.length >= 3, 'first events');
  during = true;
  const conns = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    sseReady(events(`project:${i % 2 ? projA : projB}`), { headers: bearer(i % 2 ? tok.alice : tok.bob) })));
  assert.deepEqual(conns.map((s) => s.status), Array(20).fill(200));
  const n0 = dev.events.length;
  await until(() => dev.events.length >= n0 + 5, 'events after the burst');
  during = false;
  stop = true;
  await pump;
  conns.forEach((s) => s.close());
  const ns = dev.events.map((e) => e.data.data.n);
  assert.deepEqual(ns, [...ns].sort((a, b) => a - b), 'in order');
  assert.ok(burstLat.length >= 1, 'events arrived while the 20 were authorized');
  // Generous bound (ASan, a busy 2-core machine): a blocked loop would show
  // the whole burst's authorization time here.
  assert.ok(Math.max(...burstLat) < 1000, `max latency during the burst ${Math.max(...burstLat)} ms`);
  dev.close();
});
