// Following participants' projects in a lesson (issue 6, docs/presence.md):
// follow needs read access; list; unfollow; and a follower whose stream
// connection watches the followed project receives its file, update and
// cursor events (SSE and WebSocket, on two streamer instances).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';
import { sseReady, wsOpen, wsUrl, until } from './t2000-stream-helpers.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

let c;
let demo;
const tok = {};
const uid = {};
let parts;
let lesson;
let projB;

before(async () => {
  c = await startCluster({ streamers: 2 });
  demo = await c.cliJson('seed-demo');
  for (const u of demo.users) {
    uid[u.login] = u.id;
    tok[u.login] = (await c.cliJson('mint-token', u.login)).token;
  }
  lesson = demo.lessons[0].id;
  parts = Object.fromEntries((await c.cliJson('participants', demo.course.id)).participants.map((p) => [p.login, p.id]));
  projB = (await c.cliJson('project-ensure', lesson, parts.bob)).project.id;
});
after(async () => { await c?.stop(); });

const follows = (login) => api(c, 'GET', `/api/v1/lessons/${lesson}/follows`, { token: tok[login] });
const follow = (login, who) => api(c, 'PUT', `/api/v1/lessons/${lesson}/follows/${parts[who]}`, { token: tok[login] });
const unfollow = (login, who) => api(c, 'DELETE', `/api/v1/lessons/${lesson}/follows/${parts[who]}`, { token: tok[login] });

test('following needs read access; list and unfollow', { timeout: 30000 }, async () => {
  let r = await follow('alice', 'bob');
  expectProblem(assert, r, 403, 'forbidden', 'follow without read');
  assert.deepEqual((await follows('alice')).json().follows, []);
  r = await api(c, 'PUT', `/api/v1/projects/${projB}/grants/${parts.alice}`, { token: tok.bob, body: { read: true, write: false } });
  assert.equal(r.status, 200, r.body);
  r = await follow('alice', 'bob');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().project, projB);
  r = await follow('alice', 'bob'); // idempotent
  assert.equal(r.status, 200, r.body);
  r = await follows('alice');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json().follows.map((f) => [f.participant, f.project, f.read]), [[parts.bob, projB, true]]);
  assert.equal(r.json().follows[0].user, uid.bob);
  // One's own project, someone outside the lesson's course, no such participant.
  expectProblem(assert, await follow('alice', 'alice'), 422, 'invalid_field', 'self');
  r = await api(c, 'PUT', `/api/v1/lessons/${lesson}/follows/999999`, { token: tok.alice });
  expectProblem(assert, r, 404, 'not_found', 'no such participant');
  const eve = await user(c, 'eve_f');
  r = await api(c, 'GET', `/api/v1/lessons/${lesson}/follows`, { token: eve.token });
  expectProblem(assert, r, 404, 'not_found', 'not in the course');
  r = await api(c, 'GET', `/api/v1/lessons/${lesson}/follows`);
  assert.equal(r.status, 401, r.body);
  // A revoked grant keeps the follow listed, unreadable.
  r = await api(c, 'DELETE', `/api/v1/projects/${projB}/grants/${parts.alice}`, { token: tok.bob });
  assert.equal(r.status, 200, r.body);
  assert.equal((await follows('alice')).json().follows[0].read, false);
  r = await unfollow('alice', 'bob');
  assert.equal(r.status, 204, r.body);
  assert.deepEqual((await follows('alice')).json().follows, []);
  assert.equal((await unfollow('alice', 'bob')).status, 204);
});

test('a follower watching the followed project receives its file, update and cursor events', { timeout: 60000 }, async () => {
  let r = await api(c, 'PUT', `/api/v1/projects/${projB}/grants/${parts.alice}`, { token: tok.bob, body: { read: true, write: false } });
  assert.equal(r.status, 200, r.body);
  assert.equal((await follow('alice', 'bob')).status, 200);
  // The client turns its follows into a watch list.
  const watch = (await follows('alice')).json().follows.map((f) => `project:${f.project}`);
  assert.deepEqual(watch, [`project:${projB}`]);
  const s = await sseReady(`${c.streamUrls[0]}/stream/events?streams=user:${uid.alice}&watch=${watch.join(',')}`, { headers: { Authorization: `Bearer ${tok.alice}` } });
  assert.equal(s.status, 200, s.body);
  const w = await wsOpen(`${wsUrl(c.streamUrls[1])}/stream/ws`, { headers: { Authorization: `Bearer ${tok.alice}` } });
  w.send({ type: 'subscribe', streams: [`user:${uid.alice}`] });
  assert.equal((await w.next((m) => m.type === 'subscribed' || m.type === 'error')).type, 'subscribed');
  w.send({ type: 'watch', streams: watch });
  const wsEvents = () => w.msgs.filter((m) => m.type === 'events').flatMap((m) => m.events);
  await until(() => s.events.some((e) => e.data.type === 'granted'), 'SSE: granted (watched and readable)');
  await until(() => wsEvents().some((e) => e.type === 'granted'), 'WebSocket: granted');

  const base = `/api/v1/projects/${projB}`;
  r = await curl(`${c.url}${base}/file?path=f.txt`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${tok.bob}` }, body: 'hello' });
  assert.equal(r.status, 201, r.body);
  r = await api(c, 'POST', `${base}/doc/updates?path=f.txt`, { token: tok.bob, body: { version: 1, updates: [{ clientID: 'bobed', changes: [5, [0, '!']] }] } });
  assert.equal(r.status, 200, r.body);
  r = await api(c, 'PUT', `${base}/doc/cursor?path=f.txt`, { token: tok.bob, body: { version: 2, clientID: 'bobed', ranges: [{ anchor: 6, head: 6 }], main: 0 } });
  assert.ok(r.status === 200 || r.status === 204, r.body);
  for (const [what, got] of [['SSE', () => s.events.map((e) => e.data)], ['WebSocket', wsEvents]]) {
    await until(() => { if (process.env.DBG) console.log(what, JSON.stringify(got().map((e) => [e.type, e.project]))); return ['file', 'update', 'cursor'].every((t) => got().some((e) => e.type === t && String(e.project) === String(projB))); }, `${what}: file, update and cursor`);
    const up = got().find((e) => e.type === 'update');
    assert.equal(up.file, 'f.txt');
    assert.deepEqual(up.data.changes, [5, [0, '!']]);
    assert.equal(got().find((e) => e.type === 'cursor').data.clientID, 'bobed');
  }
  // Activity: the push (and opening the document) set the project's last activity, which the roster shows.
  const t0 = Date.now();
  r = await api(c, 'GET', `${base}/doc?path=f.txt`, { token: tok.bob });
  assert.equal(r.status, 200, r.body);
  const teacher = (await c.cliJson('participants', demo.course.id)).participants.find((p) => p.role === 'teacher').login;
  r = await api(c, 'GET', `/api/v1/lessons/${lesson}/presence`, { token: tok[teacher] });
  assert.equal(r.status, 200, r.body);
  const row = r.json().participants.find((p) => p.user === uid.bob);
  assert.equal(row.project, projB);
  assert.ok(row.active_at >= t0 - 1000 && row.active_at <= Date.now() + 1000, `active_at ${row.active_at}`);
  s.close();
  w.close();
});
