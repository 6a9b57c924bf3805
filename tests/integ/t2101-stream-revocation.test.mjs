// Live revocation and granting (issue 6, docs/presence.md): an owner revokes
// a grant and every connection of the grantee — SSE and WebSocket, on each
// of two streamer instances and through nginx — gets `revoked` and stops
// receiving the project's events within a second, while its other streams
// keep flowing; writes after that are refused. A grant makes a watched
// project start flowing without a reconnect (`granted`). A teacher removing
// a participant cuts them off the lesson stream too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, sleep } from './lib/cluster.mjs';
import { sseReady, wsOpen, wsUrl, until, metrics } from './t2000-stream-helpers.mjs';
import { api } from './t1099-api-people-helpers.mjs';

let c;
let demo;
const tok = {};
const uid = {};
let parts;
let lesson;
let projA;

before(async () => {
  c = await startCluster({ streamers: 2 });
  demo = await c.cliJson('seed-demo');
  for (const u of demo.users) {
    uid[u.login] = u.id;
    tok[u.login] = (await c.cliJson('mint-token', u.login)).token;
  }
  lesson = demo.lessons[0].id;
  parts = Object.fromEntries((await c.cliJson('participants', demo.course.id)).participants.map((p) => [p.login, p.id]));
  projA = (await c.cliJson('project-ensure', lesson, parts.alice)).project.id;
});
after(async () => { await c?.stop(); });

function projectEvent(id, type, data) {
  const ts = Date.now() * 1000;
  return JSON.stringify({ type, stream: `project:${id}`, project: id, actor: { user: null }, ts: { recv: ts, pub: ts }, data });
}

const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const grant = (who, bits) => api(c, 'PUT', `/api/v1/projects/${projA}/grants/${parts[who]}`, { token: tok.alice, body: bits });
const revoke = (who) => api(c, 'DELETE', `/api/v1/projects/${projA}/grants/${parts[who]}`, { token: tok.alice });

/** bob's connections: SSE through nginx and directly on each streamer, WebSocket on each streamer. */
async function connections(streams) {
  const q = streams.join(',');
  const out = [];
  out.push({ what: 'sse nginx', s: await sseReady(`${c.url}/stream/events?streams=${q}`, { headers: bearer(tok.bob) }) });
  for (const [i, base] of c.streamUrls.entries()) {
    out.push({ what: `sse stream${i}`, s: await sseReady(`${base}/stream/events?streams=${q}`, { headers: bearer(tok.bob) }) });
    const w = await wsOpen(`${wsUrl(base)}/stream/ws`, { headers: bearer(tok.bob) });
    w.send({ type: 'subscribe', streams });
    const m = await w.next((x) => x.type === 'subscribed' || x.type === 'error');
    assert.equal(m.type, 'subscribed', JSON.stringify(m));
    out.push({ what: `ws stream${i}`, w });
  }
  for (const o of out) if (o.s) assert.equal(o.s.status, 200, `${o.what}: ${o.s.body}`);
  return out;
}

/** Every event a connection got so far (SSE blocks or WebSocket events messages). */
function received(o) {
  if (o.s) return o.s.events.map((e) => e.data);
  return o.w.msgs.filter((m) => m.type === 'events').flatMap((m) => m.events);
}

test('revoking a grant cuts every connection of the grantee off within a second; writes are refused', { timeout: 60000 }, async () => {
  let r = await grant('bob', { read: true, write: true });
  assert.equal(r.status, 200, r.body);
  const conns = await connections([`project:${projA}`, `user:${uid.bob}`]);
  // Flowing before: every connection gets a probe.
  await c.redis('XADD', `{p:${projA}}:events`, '*', 'e', projectEvent(projA, 'before', {}));
  for (const o of conns) await until(() => received(o).some((e) => e.type === 'before'), `${o.what}: the probe`);

  const t0 = Date.now();
  r = await revoke('bob');
  assert.equal(r.status, 200, r.body);
  const cut = {};
  await Promise.all(conns.map(async (o) => {
    await until(() => received(o).some((e) => e.type === 'revoked'), `${o.what}: revoked`, 5000);
    cut[o.what] = Date.now() - t0;
  }));
  console.log(`# cut-off after the DELETE answered, ms: ${JSON.stringify(cut)}`);
  for (const [what, ms] of Object.entries(cut)) assert.ok(ms < 1000, `${what}: revoked after ${ms} ms`);
  for (const o of conns) {
    const ev = received(o).find((e) => e.type === 'revoked');
    assert.equal(ev.stream, `project:${projA}`, o.what);
    assert.equal(ev.data.reason, 'grant_revoked', o.what);
  }
  // The project's events stop; the personal stream (with the grant event) keeps flowing.
  await c.redis('XADD', `{p:${projA}}:events`, '*', 'e', projectEvent(projA, 'after', {}));
  await c.redis('XADD', `{u:${uid.bob}}:events`, '*', 'e', projectEvent(projA, 'mine', {}));
  for (const o of conns) await until(() => received(o).some((e) => e.type === 'mine'), `${o.what}: personal event`);
  await sleep(300);
  for (const o of conns) {
    assert.ok(!received(o).some((e) => e.type === 'after'), `${o.what} still receives the project`);
    assert.ok(received(o).some((e) => e.type === 'grant' && e.stream === `user:${uid.bob}`), `${o.what}: grant event on user stream`);
  }
  // The SSE position no longer names the project.
  const sseConn = conns.find((o) => o.s);
  assert.ok(!String(sseConn.s.lastId).includes(`project:${projA}=`), sseConn.s.lastId);
  // Writes are refused from now on, over REST and over the WebSocket.
  r = await api(c, 'PUT', `/api/v1/projects/${projA}/file?path=b.txt`, { token: tok.bob, body: 'x', headers: { 'Content-Type': 'application/octet-stream' } });
  assert.ok([403, 404].includes(r.status), `REST write after revoke: ${r.status} ${r.body}`);
  const ws = conns.find((o) => o.w).w;
  ws.send({ type: 'push', id: 'p1', project: projA, path: 'b.txt', version: 0, updates: [] });
  const ans = await ws.next((m) => m.id === 'p1');
  assert.equal(ans.type, 'error', JSON.stringify(ans));
  assert.ok(['forbidden', 'not_found'].includes(ans.code), JSON.stringify(ans));
  for (const [i, base] of c.streamUrls.entries()) {
    const m = await metrics(base);
    assert.ok(m('cohort_stream_revoked_total') >= 2, `stream${i}: revoked_total ${m('cohort_stream_revoked_total')}`);
    assert.ok(m('cohort_stream_acl_notices_total') >= 2, `stream${i}: acl_notices_total`);
    assert.ok(m('cohort_stream_acl_checks_total') >= 1, `stream${i}: acl_checks_total`);
  }
  for (const o of conns) (o.s || o.w).close();
});

test('granting makes a watched project flow on a running connection (SSE and WebSocket, both instances)', { timeout: 60000 }, async () => {
  const conns = [];
  for (const [i, base] of c.streamUrls.entries()) {
    const s = await sseReady(`${base}/stream/events?streams=user:${uid.bob}&watch=project:${projA}`, { headers: bearer(tok.bob) });
    assert.equal(s.status, 200, s.body);
    conns.push({ what: `sse stream${i}`, s });
    const w = await wsOpen(`${wsUrl(base)}/stream/ws`, { headers: bearer(tok.bob) });
    w.send({ type: 'subscribe', streams: [`user:${uid.bob}`] });
    assert.equal((await w.next((x) => x.type === 'subscribed' || x.type === 'error')).type, 'subscribed');
    w.send({ type: 'watch', streams: [`project:${projA}`] });
    conns.push({ what: `ws stream${i}`, w });
  }
  await sleep(300); // the watch checks ran: nothing granted yet
  for (const o of conns) assert.ok(!received(o).some((e) => e.type === 'granted'), `${o.what}: granted too early`);
  const t0 = Date.now();
  const r = await grant('bob', { read: true, write: false });
  assert.equal(r.status, 200, r.body);
  const took = {};
  await Promise.all(conns.map(async (o) => {
    await until(() => received(o).some((e) => e.type === 'granted'), `${o.what}: granted`, 5000);
    took[o.what] = Date.now() - t0;
  }));
  console.log(`# granted after the PUT answered, ms: ${JSON.stringify(took)}`);
  await sleep(100);
  await c.redis('XADD', `{p:${projA}}:events`, '*', 'e', projectEvent(projA, 'now', {}));
  for (const o of conns) {
    await until(() => received(o).some((e) => e.type === 'now'), `${o.what}: the project's event`);
    assert.equal(received(o).find((e) => e.type === 'granted').stream, `project:${projA}`);
  }
  // A WebSocket is told the new set.
  const w = conns.find((o) => o.w).w;
  assert.ok(w.msgs.some((m) => m.type === 'subscribed' && m.streams.includes(`project:${projA}`)) ||
    received({ w }).some((e) => e.type === 'now'));
  // Revoking again stops the watched stream; it stays watched.
  await revoke('bob');
  for (const o of conns) await until(() => received(o).filter((e) => e.type === 'revoked').length === 1, `${o.what}: revoked`);
  await grant('bob', { read: true, write: false });
  for (const o of conns) await until(() => received(o).filter((e) => e.type === 'granted').length === 2, `${o.what}: granted again`);
  for (const o of conns) (o.s || o.w).close();
  await revoke('bob');
});

test('a teacher removing a participant cuts them off the lesson stream at once', { timeout: 60000 }, async () => {
  const carol = demo.users.find((u) => !['alice', 'bob'].includes(u.login) && parts[u.login] && u.login !== demo.teacher?.login);
  const who = carol && (await c.cliJson('participants', demo.course.id)).participants.find((p) => p.login === carol.login && p.role === 'student') ? carol.login : 'bob';
  const teacher = (await c.cliJson('participants', demo.course.id)).participants.find((p) => p.role === 'teacher').login;
  const s = await sseReady(`${c.streamUrls[1]}/stream/events?streams=lesson:${lesson},user:${uid[who]}`, { headers: bearer(tok[who]) });
  assert.equal(s.status, 200, s.body);
  const w = await wsOpen(`${wsUrl(c.streamUrls[0])}/stream/ws`, { headers: bearer(tok[who]) });
  w.send({ type: 'subscribe', streams: [`lesson:${lesson}`] });
  assert.equal((await w.next((x) => x.type === 'subscribed' || x.type === 'error')).type, 'subscribed');
  const t0 = Date.now();
  const r = await api(c, 'DELETE', `/api/v1/courses/${demo.course.id}/participants/${parts[who]}`, { token: tok[teacher] });
  assert.equal(r.status, 204, r.body);
  await until(() => s.events.some((e) => e.data.type === 'revoked'), 'SSE revoked', 5000);
  await until(() => received({ w }).some((e) => e.type === 'revoked'), 'WebSocket revoked', 5000);
  const ms = Date.now() - t0;
  console.log(`# participant removal: both cut off after ${ms} ms`);
  assert.ok(ms < 1000, `${ms} ms`);
  const ev = s.events.find((e) => e.data.type === 'revoked').data;
  assert.equal(ev.stream, `lesson:${lesson}`);
  assert.equal(ev.data.reason, 'participant_removed');
  await until(() => s.events.some((e) => e.data.type === 'participant_removed'), 'the personal event');
  const ts = Date.now() * 1000;
  await c.redis('XADD', `{l:${lesson}}:events`, '*', 'e', JSON.stringify({ type: 'late', stream: `lesson:${lesson}`, project: null, actor: { user: null }, ts: { recv: ts, pub: ts }, data: {} }));
  await sleep(300);
  assert.ok(!s.events.some((e) => e.data.type === 'late'));
  assert.ok(!received({ w }).some((e) => e.type === 'late'));
  s.close();
  w.close();
});
