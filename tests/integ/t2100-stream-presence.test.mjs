// Presence in a lesson (issue 6, docs/presence.md), through nginx and two
// streamer instances: several tabs keep a user online until the last one
// closes and the grace period ends; a reconnect within the grace period
// does not flap; `moved` events and the roster's places; a streamer killed
// with SIGKILL leaves no ghosts (the survivor emits the offline event and
// the roster is right within the heartbeat expiry).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, sleep } from './lib/cluster.mjs';
import { sseReady, wsOpen, wsUrl, until } from './t2000-stream-helpers.mjs';
import { api } from './t1099-api-people-helpers.mjs';

let c;
let demo;
const tok = {};
const uid = {};
let parts;
let lesson;
let teacher;
let watcher; // the teacher's SSE connection on the lesson stream

before(async () => {
  c = await startCluster({ streamers: 2 });
  demo = await c.cliJson('seed-demo');
  for (const u of demo.users) {
    uid[u.login] = u.id;
    tok[u.login] = (await c.cliJson('mint-token', u.login)).token;
  }
  lesson = demo.lessons[0].id;
  const ps = (await c.cliJson('participants', demo.course.id)).participants;
  parts = Object.fromEntries(ps.map((p) => [p.login, p.id]));
  teacher = ps.find((p) => p.role === 'teacher').login;
  watcher = await sseReady(`${c.streamUrls[0]}/stream/events?streams=lesson:${lesson}`, { headers: bearer(tok[teacher]) });
  assert.equal(watcher.status, 200, watcher.body);
});
after(async () => { watcher?.close(); await c?.stop(); });

const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const presenceEvents = (login, state) => watcher.events.map((e) => e.data)
  .filter((d) => d.type === 'presence' && d.data.user === uid[login] && (!state || d.data.state === state));

async function tab(login, client, base = c.url) {
  const s = await sseReady(`${base}/stream/events?streams=user:${uid[login]}&presence=${lesson}&client=${client}`, { headers: bearer(tok[login]) });
  assert.equal(s.status, 200, s.body);
  return s;
}

async function roster(login = teacher) {
  const r = await api(c, 'GET', `/api/v1/lessons/${lesson}/presence`, { token: tok[login] });
  assert.equal(r.status, 200, r.body);
  return Object.fromEntries(r.json().participants.map((p) => [p.user, p]));
}

test('three tabs: closing one keeps the user online; closing all makes them offline after the grace period', { timeout: 60000 }, async () => {
  const tabs = [await tab('alice', 't1'), await tab('alice', 't2', c.streamUrls[0]), await tab('alice', 't3', c.streamUrls[1])];
  await until(() => presenceEvents('alice', 'online').length === 1, 'alice online');
  const on = presenceEvents('alice', 'online')[0];
  assert.equal(on.stream, `lesson:${lesson}`);
  assert.equal(on.data.login, 'alice');
  assert.ok(on.data.name, 'the course nickname');
  assert.equal((await roster())[uid.alice].online, true);
  // The event also reaches a student's own lesson stream (the first tab follows it by presence=).
  await until(() => tabs[0].events.some((e) => e.data.type === 'presence'), 'presence on the tab');

  tabs[0].close();
  await sleep(8000); // longer than the grace period plus a sweep
  assert.equal(presenceEvents('alice', 'offline').length, 0, 'one closed tab of three');
  assert.equal(presenceEvents('alice', 'online').length, 1, 'no second online');
  assert.equal((await roster())[uid.alice].online, true);

  const t0 = Date.now();
  tabs[1].close();
  tabs[2].close();
  await until(() => presenceEvents('alice', 'offline').length === 1, 'alice offline', 15000);
  const took = Date.now() - t0;
  console.log(`# offline event ${took} ms after the last tab closed (grace 5 s, sweep 2 s)`);
  assert.ok(took >= 4000, `offline before the grace period ended (${took} ms)`);
  assert.equal((await roster())[uid.alice].online, false);
});

test('a reload within the grace period does not flap', { timeout: 60000 }, async () => {
  const before = { on: presenceEvents('bob', 'online').length, off: presenceEvents('bob', 'offline').length };
  let s = await tab('bob', 'r1');
  await until(() => presenceEvents('bob', 'online').length === before.on + 1, 'bob online');
  s.close();
  await sleep(1000);
  s = await tab('bob', 'r2', c.streamUrls[1]);
  await sleep(9000);
  assert.equal(presenceEvents('bob', 'offline').length, before.off, 'no offline during a reload');
  assert.equal(presenceEvents('bob', 'online').length, before.on + 1, 'no second online');
  assert.equal((await roster())[uid.bob].online, true);
  s.close();
  await until(() => presenceEvents('bob', 'offline').length === before.off + 1, 'bob offline at last', 15000);
});

test('moved events and the roster\'s places (WebSocket presence message, REST PUT for SSE)', { timeout: 60000 }, async () => {
  const projA = (await c.cliJson('project-ensure', lesson, parts.alice)).project.id;
  const w = await wsOpen(`${wsUrl(c.streamUrls[1])}/stream/ws`, { headers: bearer(tok.alice) });
  w.send({ type: 'subscribe', streams: [`project:${projA}`] });
  assert.equal((await w.next((m) => m.type === 'subscribed' || m.type === 'error')).type, 'subscribed');
  const n0 = presenceEvents('alice').length;
  w.send({ type: 'presence', lesson, client: 'edA', project: projA, file: 'src/main.py' });
  await until(() => presenceEvents('alice').length > n0, 'alice present over WebSocket');
  let ev = presenceEvents('alice').at(-1);
  assert.equal(ev.data.state, 'online');
  assert.equal(ev.data.project, projA);
  assert.equal(ev.data.file, 'src/main.py');
  assert.equal(ev.data.client, 'edA');
  w.send({ type: 'presence', lesson, client: 'edA', project: projA, file: 'README.md' });
  await until(() => presenceEvents('alice', 'moved').some((e) => e.data.file === 'README.md'), 'moved');
  ev = presenceEvents('alice', 'moved').at(-1);
  assert.equal(ev.actor.client, 'edA');
  // A place alice may not read is refused; her place stays.
  const projBob = (await c.cliJson('project-ensure', lesson, parts.bob)).project.id;
  w.send({ type: 'presence', lesson, client: 'edA', project: projBob, file: 'secret.py' });
  const refusal = await w.next((m) => m.type === 'error');
  assert.ok(['forbidden', 'not_found'].includes(refusal.code), JSON.stringify(refusal));
  let r = await roster();
  assert.equal(r[uid.alice].online, true);
  assert.equal(r[uid.alice].sessions.edA.file, 'README.md');
  assert.equal(r[uid.alice].sessions.edA.project, projA);
  // The teacher reads alice's project: the roster shows it and its activity slot.
  assert.equal(r[uid.alice].project, projA);
  assert.ok('active_at' in r[uid.alice]);

  // An SSE client says where it is over REST.
  const s = await tab('alice', 'sseB', c.url);
  r = await api(c, 'PUT', `/api/v1/lessons/${lesson}/presence`, { token: tok.alice, body: { client: 'sseB', project: projA, file: 'src/x.py' } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().moved, true);
  await until(() => presenceEvents('alice', 'moved').some((e) => e.data.client === 'sseB' && e.data.file === 'src/x.py'), 'moved over REST');
  // A session without a live connection is refused; so is a place one may not read.
  r = await api(c, 'PUT', `/api/v1/lessons/${lesson}/presence`, { token: tok.alice, body: { client: 'nosuch', file: 'a' } });
  assert.equal(r.status, 409, r.body);
  const projB = (await c.cliJson('project-ensure', lesson, parts.bob)).project.id;
  r = await api(c, 'PUT', `/api/v1/lessons/${lesson}/presence`, { token: tok.alice, body: { client: 'sseB', project: projB } });
  assert.ok([403, 404].includes(r.status), r.body);
  r = await api(c, 'PUT', `/api/v1/lessons/${lesson}/presence`, { token: tok.alice, body: { client: 'bad client!' } });
  assert.equal(r.status, 422, r.body);
  // Closing the WebSocket forgets its place; the SSE session's stays.
  w.close();
  await until(async () => !(await roster())[uid.alice].sessions.edA, 'edA gone from the roster');
  assert.equal((await roster())[uid.alice].sessions.sseB.file, 'src/x.py');
  s.close();
  await until(() => presenceEvents('alice', 'offline').length === 2, 'alice offline again', 15000);
});

test('SIGKILL of a streamer: its users go offline within the expiry, announced by the survivor', { timeout: 90000 }, async () => {
  const a = await tab('alice', 'k0', c.streamUrls[0]);
  const b = await tab('bob', 'k1', c.streamUrls[1]);
  await until(async () => { const r = await roster(); return r[uid.alice].online && r[uid.bob].online; }, 'both online');
  const offBefore = presenceEvents('bob', 'offline').length;
  const t0 = Date.now();
  await c.kill('stream1', 'SIGKILL');
  b.close();
  await until(() => presenceEvents('bob', 'offline').length === offBefore + 1, 'bob offline via the survivor', 40000);
  const took = Date.now() - t0;
  console.log(`# offline event for the killed streamer's user after ${took} ms`);
  assert.ok(took <= 30000, `${took} ms (presence.ttl_s 25 plus a sweep)`);
  const r = await roster();
  assert.equal(r[uid.bob].online, false);
  assert.equal(r[uid.alice].online, true);
  assert.ok(c.log('stream0').length > 0);
  a.close();
});
