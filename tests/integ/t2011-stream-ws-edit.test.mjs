// Live editing over WebSocket (docs/protocol.md section 9, "WebSocket
// messages for editing"), through nginx and directly: push answered with an
// ack, the pusher's own update events on its socket and on an SSE client,
// re-pushes skipped, cursors as cursor events with name and colour, every
// refusal as an error naming the message (nothing changed), a bounded number
// of edits in flight per connection, and sockets closed while their jobs run.
// Run it against ASan binaries too (COHORT_BIN_DIR): c.stop() fails on a
// sanitizer report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';
import { api, user } from './t1099-api-people-helpers.mjs';
import { wsOpen, wsUrl, sseReady, metrics, until, redisPipe, cmpId } from './t2000-stream-helpers.mjs';

let c, alice, bob, olga, project, base, routes;
const q = encodeURIComponent;
let seq = 0;
const nextId = () => `r${++seq}`;

before(async () => {
  c = await startCluster({ streamers: 1 });
  alice = await user(c, 'alice');
  bob = await user(c, 'bob');
  olga = await user(c, 'olga');
  await user(c, 'tess');
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Course 1');
  const pa = (await c.cliJson('course-join', '--user', 'alice', '--code', made.join_code, '--nickname', 'Alice A')).participant.id;
  const pb = (await c.cliJson('course-join', '--user', 'bob', '--code', made.join_code, '--nickname', 'bob')).participant.id;
  const lesson = (await c.cliJson('lesson-create', made.course.id, 'Lesson 1')).lesson.id;
  project = (await c.cliJson('project-ensure', lesson, pa)).project.id;
  await c.cliJson('grant', project, pb, 'r', '--by', pa);
  base = `/api/v1/projects/${project}`;
  routes = [
    { what: 'through nginx', ws: `${wsUrl(c.url)}/stream/ws`, http: c.url },
    { what: 'direct', ws: `${wsUrl(c.streamUrls[0])}/stream/ws`, http: c.streamUrls[0] },
  ];
});
after(async () => { await c?.stop(); });

async function create(p, body, ctype = 'text/plain') {
  const bin = ctype === 'application/octet-stream' ? '&binary=1' : '';
  const r = await curl(`${c.url}${base}/file?path=${q(p)}${bin}`, {
    method: 'PUT', headers: { 'Content-Type': ctype, Authorization: `Bearer ${alice.token}` }, body,
  });
  assert.equal(r.status, 201, r.body);
}
const doc = async (p) => {
  const r = await api(c, 'GET', `${base}/doc?path=${q(p)}`, { token: alice.token });
  assert.equal(r.status, 200, r.body);
  return r.json();
};
// w.all keeps every message (w.next consumes the ones before its match).
async function open(url, u) {
  const w = await wsOpen(url, u ? { headers: { Authorization: `Bearer ${u.token}` } } : {});
  w.all = [];
  w.ws.on('message', (m) => w.all.push(JSON.parse(m.toString())));
  return w;
}
const answer = async (w, id, timeout) => {
  const pick = () => w.all.find((m) => m.id === id && (m.type === 'ack' || m.type === 'error'));
  await until(pick, `the answer to ${id}`, timeout);
  return pick();
};

async function subscribed(w) {
  w.send({ type: 'subscribe', streams: [`project:${project}`] });
  const m = await w.next((x) => x.type === 'subscribed' || x.type === 'error');
  assert.equal(m.type, 'subscribed', JSON.stringify(m));
}
const events = (w, type) => w.all.filter((m) => m.type === 'events').flatMap((m) => m.events).filter((e) => e.type === type);

for (const i of [0, 1]) {
  test(`push and ack, own updates back, SSE sees them (${i ? 'direct' : 'through nginx'})`, { timeout: 30000 }, async () => {
    const r = routes[i];
    const path = `a${i}.txt`;
    await create(path, 'hello\n');
    const s = await sseReady(`${r.http}/stream/events?streams=project:${project}`, { headers: { Authorization: `Bearer ${bob.token}` } });
    const w = await open(r.ws, alice);
    try {
      await subscribed(w);
      const id = nextId();
      w.send({ type: 'push', id, project, path, version: 1, updates: [{ clientID: 'k1', changes: [5, [0, ' world'], 1] }] });
      assert.deepEqual(await answer(w, id), { type: 'ack', id, version: 2, accepted: 1, skipped: 0 });
      await until(() => events(w, 'update').some((e) => e.file === path && e.version === 2), 'own update event');
      const mine = events(w, 'update').find((e) => e.file === path && e.version === 2);
      assert.equal(mine.actor.user, 'alice');
      assert.equal(mine.actor.client, 'k1');
      assert.equal(mine.project, String(project));
      assert.deepEqual(mine.data, { clientID: 'k1', changes: [5, [0, ' world'], 1] });
      await until(() => s.events.some((e) => e.data.type === 'update' && e.data.file === path && e.data.version === 2), 'SSE update');
      const seen = s.events.find((e) => e.data.type === 'update' && e.data.file === path && e.data.version === 2);
      assert.equal(seen.raw, JSON.stringify(mine), 'the same envelope bytes on both transports');
      // A re-push of what was accepted is skipped, not applied twice.
      const id2 = nextId();
      w.send({ type: 'push', id: id2, project, path, version: 1, updates: [{ clientID: 'k1', changes: [5, [0, ' world'], 1] }] });
      assert.deepEqual(await answer(w, id2), { type: 'ack', id: id2, version: 2, accepted: 0, skipped: 1 });
      // Integer ids are echoed as integers.
      w.send({ type: 'push', id: 77, project, path, version: 2, updates: [{ clientID: 'k1', changes: [12, [0, '!']] }] });
      assert.deepEqual(await answer(w, 77), { type: 'ack', id: 77, version: 3, accepted: 1, skipped: 0 });
      assert.equal((await doc(path)).text, 'hello world\n!');
    } finally {
      w.close();
      s.close();
    }
  });
}

test('a push before any subscribe authenticates with the upgrade token', { timeout: 30000 }, async () => {
  await create('b.txt', 'x');
  const w = await wsOpen(`${routes[0].ws}?access_token=${alice.token}`);
  w.all = [];
  w.ws.on('message', (m) => w.all.push(JSON.parse(m.toString())));
  try {
    const id = nextId();
    w.send({ type: 'push', id, project, path: 'b.txt', version: 1, updates: [{ clientID: 'k2', changes: [1, [0, 'y']] }] });
    assert.deepEqual(await answer(w, id), { type: 'ack', id, version: 2, accepted: 1, skipped: 0 });
    // The connection keeps the principal: a later subscribe needs no token check.
    await subscribed(w);
  } finally {
    w.close();
  }
});

test('refusals name the message and change nothing', { timeout: 30000 }, async () => {
  await create('e.txt', 'abc');
  await create('bin.dat', Buffer.from([0, 1, 2, 0xff, 0xfe]), 'application/octet-stream');
  const wa = await open(routes[0].ws, alice);
  const wb = await open(routes[0].ws, bob);
  const wo = await open(routes[0].ws, olga);
  const wn = await open(routes[0].ws);
  const good = [{ clientID: 'k3', changes: [3, [0, 'd']] }];
  const cases = [
    { w: wb, msg: { project, path: 'e.txt', version: 1, updates: good }, code: 'forbidden' },
    { w: wo, msg: { project, path: 'e.txt', version: 1, updates: good }, code: 'not_found' },
    { w: wn, msg: { project, path: 'e.txt', version: 1, updates: good }, code: 'unauthenticated' },
    { w: wa, msg: { project: 999999, path: 'e.txt', version: 1, updates: good }, code: 'not_found' },
    { w: wa, msg: { project, path: 'e.txt', version: 1 }, code: 'invalid_field' },
    { w: wa, msg: { project, path: 'e.txt', version: 1, updates: {} }, code: 'invalid_field' },
    { w: wa, msg: { project, path: '../e.txt', version: 1, updates: good }, code: 'invalid_field' },
    { w: wa, msg: { project: 'x', path: 'e.txt', version: 1, updates: good }, code: 'invalid_field' },
    { w: wa, msg: { project, path: 'e.txt', version: -1, updates: good }, code: 'invalid_field' },
    { w: wa, msg: { project, path: 'e.txt', version: 1, updates: [{ clientID: 'k3', changes: 'nope' }] }, code: 'invalid_field' },
    { w: wa, msg: { project, path: 'e.txt', version: 1, updates: [{ changes: [3] }] }, code: 'invalid_field' },
    { w: wa, msg: { project, path: 'e.txt', version: 9, updates: good }, code: 'out_of_range' },
    { w: wa, msg: { project, path: 'e.txt', version: 1, updates: [{ clientID: 'k3', changes: [4, [0, 'd']] }] }, code: 'out_of_range' },
    { w: wa, msg: { project, path: 'bin.dat', version: 1, updates: [{ clientID: 'k3', changes: [5] }] }, code: 'binary_file' },
    { w: wa, msg: { project, path: 'nope.txt', version: 1, updates: good }, code: 'not_found' },
  ];
  try {
    for (const k of cases) {
      const id = nextId();
      k.w.send({ type: 'push', id, ...k.msg });
      const m = await answer(k.w, id);
      assert.equal(m.type, 'error', `${JSON.stringify(k.msg)}: ${JSON.stringify(m)}`);
      assert.equal(m.code, k.code, `${JSON.stringify(k.msg)}: ${m.detail}`);
      assert.equal(typeof m.detail, 'string');
      assert.ok(m.detail.length > 0);
    }
    // A push without an id is refused without one; the connection stays usable.
    wa.send({ type: 'push', project, path: 'e.txt', version: 1, updates: good });
    await until(() => wa.all.some((x) => x.type === 'error' && x.id === undefined), 'the error without id');
    const m = wa.all.find((x) => x.type === 'error' && x.id === undefined);
    assert.equal(m.code, 'invalid_field');
    const d = await doc('e.txt');
    assert.equal(d.version, 1);
    assert.equal(d.text, 'abc');
    const id = nextId();
    wa.send({ type: 'push', id, project, path: 'e.txt', version: 1, updates: good });
    assert.equal((await answer(wa, id)).type, 'ack');
  } finally {
    for (const w of [wa, wb, wo, wn]) w.close();
  }
});

test('a cursor over WebSocket is a cursor event on SSE, with name and colour', { timeout: 30000 }, async () => {
  await create('cur.txt', 'hello');
  const s = await sseReady(`${c.url}/stream/events?streams=project:${project}`, { headers: { Authorization: `Bearer ${bob.token}` } });
  const wa = await open(routes[0].ws, alice);
  const wb = await open(routes[0].ws, bob);
  try {
    wa.send({ type: 'cursor', id: 'c1', project, path: 'cur.txt', version: 1, ranges: [{ anchor: 1, head: 3 }], main: 0, clientID: 'k4' });
    await until(() => s.events.some((e) => e.data.type === 'cursor' && e.data.file === 'cur.txt'), 'cursor event');
    const ev = s.events.find((e) => e.data.type === 'cursor' && e.data.file === 'cur.txt').data;
    assert.equal(ev.actor.user, 'alice');
    assert.equal(ev.actor.client, 'k4');
    assert.equal(ev.version, 1);
    assert.equal(ev.data.name, 'Alice A');
    assert.equal(ev.data.login, 'alice');
    assert.match(ev.data.color, /^#[0-9a-f]{6}$/);
    assert.deepEqual(ev.data.ranges, [{ anchor: 1, head: 3 }]);
    assert.equal(ev.data.clientID, 'k4');
    // A reader's cursor is shown too (read access suffices).
    wb.send({ type: 'cursor', project, path: 'cur.txt', version: 1, ranges: [{ anchor: 0, head: 0 }], clientID: 'k5' });
    await until(() => s.events.some((e) => e.data.type === 'cursor' && e.data.actor.user === 'bob'), 'bob cursor');
    // Stored: the document lists it.
    const d = await doc('cur.txt');
    assert.deepEqual(d.cursors.map((x) => x.login).sort(), ['alice', 'bob']);
    // Success sends nothing; refusals name the message.
    wa.send({ type: 'cursor', id: 'c2', project, path: 'cur.txt', version: 1, ranges: [{ anchor: 0, head: 9 }], clientID: 'k4' });
    let m = await answer(wa, 'c2');
    assert.equal(m.code, 'out_of_range');
    wa.send({ type: 'cursor', id: 'c3', project, path: 'cur.txt', version: 5, ranges: [{ anchor: 0, head: 0 }], clientID: 'k4' });
    m = await answer(wa, 'c3');
    assert.equal(m.code, 'out_of_range');
    wa.send({ type: 'cursor', id: 'c4', project, path: 'cur.txt', version: 1, ranges: [], clientID: 'k4' });
    m = await answer(wa, 'c4');
    assert.equal(m.code, 'invalid_field');
    wa.send({ type: 'cursor', id: 'c5', project, path: 'cur.txt', version: 1, ranges: [{ anchor: 0, head: 0 }] });
    m = await answer(wa, 'c5');
    assert.equal(m.code, 'invalid_field');
    assert.equal(wa.all.filter((x) => x.id === 'c1').length, 0, 'no answer to a good cursor');
  } finally {
    wa.close();
    wb.close();
    s.close();
  }
});

test('edits in flight per connection are bounded; every message is answered', { timeout: 60000 }, async () => {
  await create('many.txt', '');
  const w = await open(routes[0].ws, alice);
  const N = 40;
  try {
    const ids = [];
    for (let i = 0; i < N; i++) {
      const id = nextId();
      ids.push(id);
      // Each based on version 1 with its own client id: all rebased and accepted.
      w.send({ type: 'push', id, project, path: 'many.txt', version: 1, updates: [{ clientID: `m${i}`, changes: [[0, 'x']] }] });
    }
    const answers = [];
    for (const id of ids) answers.push(await answer(w, id, 20000));
    const acks = answers.filter((m) => m.type === 'ack');
    const limited = answers.filter((m) => m.type === 'error');
    for (const m of limited) assert.equal(m.code, 'rate_limited', m.detail);
    assert.equal(acks.length + limited.length, N);
    assert.ok(acks.length >= 8, `at least one connection's worth accepted (${acks.length})`);
    assert.ok(limited.length > 0, 'more than 8 at once are refused');
    const d = await doc('many.txt');
    assert.equal(d.text, 'x'.repeat(acks.length));
    assert.equal(d.version, 1 + acks.length);
    const m = await metrics(c.streamUrls[0]);
    assert.ok(m('cohort_stream_ws_pushes_total') >= acks.length);
    assert.ok(m('cohort_stream_ws_edits_refused_total') >= limited.length);
  } finally {
    w.close();
  }
});

test('sockets closed while their edits run: no crash, the server goes on', { timeout: 60000 }, async () => {
  await create('close.txt', '');
  for (let round = 0; round < 20; round++) {
    const w = await open(round % 2 ? routes[0].ws : routes[1].ws, alice);
    for (let i = 0; i < 8; i++) {
      w.send({ type: 'push', id: nextId(), project, path: 'close.txt', version: 1, updates: [{ clientID: `z${round}x${i}`, changes: [[0, 'z']] }] });
    }
    w.send({ type: 'cursor', project, path: 'close.txt', version: 1, ranges: [{ anchor: 0, head: 0 }], clientID: `z${round}` });
    w.close();
  }
  await until(async () => (await metrics(c.streamUrls[0]))('cohort_stream_ws_edits_pending') === 0, 'jobs drained');
  const w = await open(routes[0].ws, alice);
  try {
    const d = await doc('close.txt');
    const id = nextId();
    w.send({ type: 'push', id, project, path: 'close.txt', version: d.version, updates: [{ clientID: 'after', changes: [d.text.length, [0, '.']] }] });
    assert.deepEqual(await answer(w, id), { type: 'ack', id, version: d.version + 1, accepted: 1, skipped: 0 });
  } finally {
    w.close();
  }
});

test('a burst of cursor events is coalesced to the newest per user and file; other events all arrive', { timeout: 30000 }, async () => {
  const key = `{p:${project}}:events`;
  const ev = (type, user, file, n) => JSON.stringify({
    type, stream: `project:${project}`, project: String(project), file, version: 1,
    actor: { user, client: 'k' }, ts: { recv: 1, pub: 1 }, data: { n },
  });
  const s = await sseReady(`${c.url}/stream/events?streams=project:${project}`, { headers: { Authorization: `Bearer ${bob.token}` } });
  const w = await open(routes[1].ws, alice);
  try {
    await subscribed(w);
    const before = (await metrics(c.streamUrls[0]))('cohort_stream_cursors_coalesced_total');
    const cmds = [];
    for (let i = 0; i < 300; i++) {
      cmds.push(['XADD', key, '*', 'e', ev('cursor', 'alice', 'burst.txt', i)]);
      cmds.push(['XADD', key, '*', 'e', ev('cursor', 'bob', 'burst.txt', i)]);
      if (i % 30 === 0) cmds.push(['XADD', key, '*', 'e', ev('note', 'alice', 'burst.txt', i)]);
    }
    const ids = await redisPipe(c.redisPort, cmds);
    for (const id of ids) assert.ok(!(id instanceof Error), String(id));
    const last = ids[ids.length - 1];
    for (const got of [
      () => s.events.map((e) => e.data).filter((e) => e.file === 'burst.txt'),
      () => w.all.filter((m) => m.type === 'events').flatMap((m) => m.events).filter((e) => e.file === 'burst.txt'),
    ]) {
      await until(() => got().some((e) => e.id === last), 'the newest event');
      const list = got();
      // Every non-cursor event, in order; the newest cursor of each user last.
      assert.deepEqual(list.filter((e) => e.type === 'note').map((e) => e.data.n), [0, 30, 60, 90, 120, 150, 180, 210, 240, 270]);
      for (const u of ['alice', 'bob']) {
        const mine = list.filter((e) => e.type === 'cursor' && e.actor.user === u);
        assert.equal(mine[mine.length - 1].data.n, 299);
        for (let i = 1; i < mine.length; i++) assert.ok(mine[i].data.n > mine[i - 1].data.n);
      }
      for (let i = 1; i < list.length; i++) assert.ok(cmpId(list[i - 1].id, list[i].id) < 0, 'ids increase');
      assert.ok(list.length < 610, `coalesced (${list.length} of 610 delivered)`);
    }
    const after = (await metrics(c.streamUrls[0]))('cohort_stream_cursors_coalesced_total');
    assert.ok(after > before, 'counted');
  } finally {
    w.close();
    s.close();
  }
});

test('stream.edit_pending_max bounds the jobs of the whole process (unavailable)', { timeout: 60000 }, async () => {
  const c2 = await startCluster({ streamers: 1, env: { COHORT_STREAM_EDIT_PENDING_MAX: '2' } });
  try {
    const ann = await user(c2, 'ann');
    const made = await c2.cliJson('course-create', '--owner', 'ann', 'Course 2');
    const lesson = (await c2.cliJson('lesson-create', made.course.id, 'L')).lesson.id;
    const pid = (await c2.cliJson('project-ensure', lesson, made.teacher.id)).project.id;
    const r = await curl(`${c2.url}/api/v1/projects/${pid}/file?path=p.txt`, {
      method: 'PUT', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${ann.token}` }, body: '',
    });
    assert.equal(r.status, 201, r.body);
    const w = await open(`${wsUrl(c2.url)}/stream/ws`, ann);
    try {
      const ids = [];
      for (let i = 0; i < 40; i++) {
        const id = nextId();
        ids.push(id);
        w.send({ type: 'push', id, project: pid, path: 'p.txt', version: 1, updates: [{ clientID: `p${i}`, changes: [[0, 'p']] }] });
      }
      const answers = [];
      for (const id of ids) answers.push(await answer(w, id, 20000));
      const codes = answers.filter((m) => m.type === 'error').map((m) => m.code);
      assert.ok(codes.includes('unavailable'), JSON.stringify(codes));
      for (const code of codes) assert.ok(code === 'unavailable' || code === 'rate_limited', code);
      const acks = answers.filter((m) => m.type === 'ack').length;
      assert.ok(acks >= 1);
      const d = await api(c2, 'GET', `/api/v1/projects/${pid}/doc?path=p.txt`, { token: ann.token });
      assert.equal(d.json().text, 'p'.repeat(acks));
    } finally {
      w.close();
    }
  } finally {
    await c2.stop();
  }
});
