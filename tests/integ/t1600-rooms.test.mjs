// Anonymous rooms through nginx (docs/rooms.md): the lifecycle with three
// members whose edits converge and who see each other join, rename, move
// their cursors and leave on the room's SSE stream; colours (least used
// first); names stored and sent literally; expiry by heartbeat timeout and
// the idle drop; per-address rate limits; the feature switch; bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startCluster, sleep } from './lib/cluster.mjs';
import { api, expectProblem } from './t1099-api-people-helpers.mjs';
import { sse, sseReady, until, wsOpen, wsUrl } from './t2000-stream-helpers.mjs';

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46a1a8',
  '#f032e6', '#7a9a01', '#c2185b', '#008080', '#9a6324', '#800000'];
// redis-cli answers integers as "(integer) N".
const int = (s) => Number(String(s).replace('(integer) ', ''));
const sha = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

// main: rooms on, limits out of the way; short: short member timeout and
// idle drop; limited: low rate limits; off: rooms disabled.
let main, short, limited, off;

before(async () => {
  const roomy = { COHORT_ROOMS_ENABLED: 'true', COHORT_ROOMS_MSGS_PER_S: '100000', COHORT_ROOMS_CREATE_PER_MIN: '100000' };
  // One after the other: clusters started at once can race for free ports.
  main = await startCluster({ streamers: 1, env: roomy });
  short = await startCluster({ streamers: 1, env: { ...roomy, COHORT_ROOMS_MEMBER_TIMEOUT_S: '2', COHORT_ROOMS_IDLE_DROP_S: '3' } });
  limited = await startCluster({ streamers: 0, env: { COHORT_ROOMS_ENABLED: 'true', COHORT_ROOMS_MSGS_PER_S: '5', COHORT_ROOMS_CREATE_PER_MIN: '3' } });
  off = await startCluster({ streamers: 1, env: {} });
});
after(async () => { await Promise.all([main, short, limited, off].map((c) => c?.stop())); });

async function join(c, room, name) {
  const r = await api(c, 'POST', `/api/v1/rooms/${room}/members`, { body: { name } });
  assert.equal(r.status, 201, r.body);
  const j = r.json();
  return { ...j, room, c, headers: { 'X-Room-Member': `${j.member.id}.${j.secret}` } };
}
const call = (m, method, suffix, body) =>
  api(m.c, method, `/api/v1/rooms/${m.room}${suffix}`, { headers: m.headers, body });
const roomEvents = (c, room) => sseReady(`${c.url}/stream/events?streams=room:${room}`);
const ofType = (s, type) => s.events.map((e) => e.data).filter((e) => e.type === type);

test('three members: join, edits converge, cursors, rename and leave on the room stream', async () => {
  const s = await roomEvents(main, 'demo');
  assert.equal(s.status, 200);
  const a = await join(main, 'demo', 'Ada');
  assert.equal(a.room, 'demo');
  assert.match(a.member.id, /^[A-Za-z0-9_-]{16}$/);
  assert.match(a.secret, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(a.doc, { path: 'room.txt', version: 1, text: '', sum: sha('') });
  assert.equal(a.member.color, PALETTE[0]);
  const b = await join(main, 'demo', 'Bob');
  const c3 = await join(main, 'demo', 'Cy');
  assert.deepEqual(c3.members.map((m) => m.name).sort(), ['Ada', 'Bob', 'Cy']);
  assert.equal(new Set([a, b, c3].map((m) => m.member.color)).size, 3, 'distinct colours');

  // Concurrent pushes on version 1 by two members are rebased by the server.
  let r = await call(a, 'POST', '/doc/updates', { version: 1, updates: [{ clientID: 'ca', changes: [[0, 'hello']] }] });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { version: 2, accepted: 1, skipped: 0 });
  r = await call(b, 'POST', '/doc/updates', { version: 1, updates: [{ clientID: 'cb', changes: [[0, 'world']] }] });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().version, 3);
  // The third member pulls both and applies them one at a time, as a client does.
  r = await call(c3, 'GET', '/doc/updates?since=1');
  assert.equal(r.status, 200, r.body);
  const pulled = r.json();
  assert.equal(pulled.version, 3);
  assert.deepEqual(pulled.updates.map((u) => u.clientID), ['ca', 'cb']);
  let text = '';
  for (const u of pulled.updates) text = applyChanges(text, u.changes);
  // Long-poll: wakes when a's next push lands.
  const waiting = call(c3, 'GET', '/doc/updates?since=3&wait=10');
  await sleep(300);
  // a re-pushes its first update (as a client does until it is confirmed) with a second one.
  r = await call(a, 'POST', '/doc/updates', { version: 1, updates: [{ clientID: 'ca', changes: [[0, 'hello']] }, { clientID: 'ca', changes: [5, [0, '!']] }] });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { version: 4, accepted: 1, skipped: 1 }, 'the re-pushed update is skipped');
  r = await waiting;
  assert.equal(r.status, 200, r.body);
  for (const u of r.json().updates) text = applyChanges(text, u.changes);
  for (const m of [a, b, c3]) {
    const d = (await call(m, 'GET', '/doc')).json();
    assert.equal(d.text, text, 'every member reads the same text');
    assert.equal(d.version, 4);
    assert.equal(d.sum, sha(text));
    assert.deepEqual(d.cursors, []);
  }
  r = await call(b, 'GET', '/doc/sum?version=4');
  assert.deepEqual(r.json(), { version: 4, sum: sha(text) });
  expectProblem(assert, await call(b, 'GET', '/doc/sum?version=3'), 409, 'conflict');

  r = await call(b, 'PUT', '/doc/cursor', { version: 4, clientID: 'cb', ranges: [{ anchor: 1, head: 3 }], main: 0 });
  assert.equal(r.status, 204, r.body);
  r = await call(c3, 'PATCH', `/members/${c3.member.id}`, { name: 'Cyril' });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json(), { id: c3.member.id, name: 'Cyril', color: c3.member.color });
  r = await call(b, 'DELETE', `/members/${b.member.id}`);
  assert.equal(r.status, 204, r.body);
  expectProblem(assert, await call(b, 'GET', '/doc'), 401, 'invalid_token', 'a member who left');

  await until(() => ofType(s, 'member.leave').length === 1, 'the leave event');
  const evs = s.events.map((e) => e.data);
  for (const e of evs) {
    assert.equal(e.stream, 'room:demo');
    assert.equal(e.project, null);
  }
  assert.deepEqual(ofType(s, 'member.join').map((e) => e.data),
    [a, b, c3].map((m) => m.member));
  assert.deepEqual(ofType(s, 'member.join').map((e) => e.actor.user), [a, b, c3].map((m) => m.member.id));
  assert.deepEqual(ofType(s, 'update').map((e) => [e.version, e.file, e.data.clientID]),
    [[2, 'room.txt', 'ca'], [3, 'room.txt', 'cb'], [4, 'room.txt', 'ca']]);
  const cur = ofType(s, 'cursor');
  assert.equal(cur.length, 1);
  assert.deepEqual(cur[0].data, { clientID: 'cb', version: 4, ranges: [{ anchor: 1, head: 3 }], main: 0,
    member: b.member.id, name: 'Bob', color: b.member.color });
  assert.deepEqual(ofType(s, 'member.rename').map((e) => e.data), [{ ...c3.member, name: 'Cyril' }]);
  assert.deepEqual(ofType(s, 'member.leave').map((e) => e.data), [{ ...b.member, reason: 'left' }]);

  r = await api(main, 'GET', '/api/v1/rooms/demo');
  assert.equal(r.status, 200, r.body);
  const room = r.json();
  assert.equal(room.room, 'demo');
  assert.equal(room.version, 4);
  assert.deepEqual(room.members.map((m) => [m.id, m.name, m.color]).sort(),
    [[a.member.id, 'Ada', a.member.color], [c3.member.id, 'Cyril', c3.member.color]].sort());
  for (const m of room.members) assert.ok(m.joined > 0 && m.last_seen >= m.joined);
  s.close();
});

/* Applies a CodeMirror ChangeSet JSON to text (UTF-16 units, as JS strings). */
function applyChanges(text, changes) {
  let out = '', pos = 0;
  for (const part of changes) {
    if (typeof part === 'number') { out += text.slice(pos, pos + part); pos += part; continue; }
    pos += part[0];
    out += part.slice(1).join('\n');
  }
  return out;
}

test('an anonymous WebSocket follows a room too', async () => {
  const w = await wsOpen(`${wsUrl(main.url)}/stream/ws`);
  w.send({ type: 'subscribe', streams: ['room:wsroom'] });
  await w.next((m) => m.type === 'subscribed');
  const m = await join(main, 'wsroom', 'Wes');
  const got = await w.next((x) => x.type === 'events');
  assert.equal(got.events[0].type, 'member.join');
  assert.equal(got.events[0].stream, 'room:wsroom');
  assert.deepEqual(got.events[0].data, m.member);
  w.send({ type: 'subscribe', streams: ['room:No'] });
  const err = await w.next((x) => x.type === 'error');
  assert.equal(err.code, 'invalid_stream');
  w.close();
});

test('colours: the 13th member shares the least-used colour, a leaver frees theirs', async () => {
  const ms = [];
  for (let i = 0; i < 13; i++) ms.push(await join(main, 'colours', `m${i}`));
  assert.deepEqual(ms.slice(0, 12).map((m) => m.member.color), PALETTE, 'palette order, all distinct');
  assert.equal(ms[12].member.color, PALETTE[0], 'ties go to the first colour of the palette');
  // m5 leaves: its colour is now used by nobody, so it is the next one given out.
  assert.equal((await call(ms[5], 'DELETE', `/members/${ms[5].member.id}`)).status, 204);
  const next = await join(main, 'colours', 'late');
  assert.equal(next.member.color, PALETTE[5]);
  // Then every colour is used once except the first (twice): the next gets the second.
  assert.equal((await join(main, 'colours', 'later')).member.color, PALETTE[1]);
});

test('names are text: markup is kept literally, control characters are refused', async () => {
  const s = await roomEvents(main, 'names');
  const evil = '<img src=x onerror=alert(1)>';
  const m = await join(main, 'names', evil);
  assert.equal(m.member.name, evil);
  let r = await api(main, 'GET', '/api/v1/rooms/names');
  assert.equal(r.json().members[0].name, evil);
  assert.ok(r.body.includes('"<img src=x onerror=alert(1)>"'), 'sent as a plain JSON string');
  const quoted = 'a "quoted" \\ name </script>';
  r = await call(m, 'PATCH', `/members/${m.member.id}`, { name: quoted });
  assert.equal(r.json().name, quoted);
  const emoji = '😀'.repeat(40);
  assert.equal((await join(main, 'names', emoji)).member.name, emoji, '40 characters (160 bytes) fit');
  for (const [bad, why] of [['a\u0007b', 'bell'], ['a\nb', 'newline'], ['\u0000', 'NUL'], ['', 'empty'],
    [' x', 'leading space'], ['x'.repeat(41), '41 characters'], ['a\u001bb', 'escape']]) {
    expectProblem(assert, await api(main, 'POST', '/api/v1/rooms/names/members', { body: { name: bad } }), 422, 'invalid_field', why);
    expectProblem(assert, await call(m, 'PATCH', `/members/${m.member.id}`, { name: bad }), 422, 'invalid_field', `rename: ${why}`);
  }
  expectProblem(assert, await api(main, 'POST', '/api/v1/rooms/names/members', { body: { name: 7 } }), 422, 'invalid_field', 'a number');
  expectProblem(assert, await api(main, 'POST', '/api/v1/rooms/names/members', { body: { name: 'x', admin: true } }), 422, 'invalid_field', 'unknown field');
  await s.waitEvents(3);
  const joins = ofType(s, 'member.join');
  assert.equal(joins[0].data.name, evil);
  assert.equal(ofType(s, 'member.rename')[0].data.name, quoted);
  assert.equal((await api(main, 'GET', '/api/v1/rooms/names')).json().members.length, 2, 'refused joins added nobody');
  s.close();
});

test('bad input: room names, missing and forged member headers, other members', async () => {
  for (const name of ['Demo', 'a.b', 'x'.repeat(65), '%61', 'a%2Fb', 'caf%C3%A9'])
    expectProblem(assert, await api(main, 'POST', `/api/v1/rooms/${name}/members`, { body: { name: 'n' } }), 422, 'invalid_field', name);
  assert.equal((await join(main, 'x'.repeat(64), 'n')).member.name, 'n', '64 characters are fine');
  expectProblem(assert, await api(main, 'GET', '/api/v1/rooms/nosuchroom'), 404, 'not_found');
  const a = await join(main, 'guarded', 'a');
  const b = await join(main, 'guarded', 'b');
  const bare = { ...a, headers: {} };
  for (const [method, suffix] of [['GET', '/doc'], ['POST', `/members/${a.member.id}/heartbeat`], ['DELETE', `/members/${a.member.id}`]]) {
    expectProblem(assert, await call(bare, method, suffix), 401, 'unauthenticated', `${method} ${suffix} without the header`);
    for (const h of ['nonsense', `${a.member.id}.${b.secret}`, `${a.member.id}.${'A'.repeat(43)}`, `${'A'.repeat(16)}.${a.secret}`, `${a.member.id}${a.secret}`])
      expectProblem(assert, await call({ ...a, headers: { 'X-Room-Member': h } }, method, suffix), 401, 'invalid_token', `${method} ${suffix} as ${h}`);
  }
  // A member's credentials are only good in its own room.
  await join(main, 'elsewhere', 'z');
  expectProblem(assert, await call({ ...a, room: 'elsewhere' }, 'GET', '/doc'), 401, 'invalid_token');
  // Acting on another member.
  expectProblem(assert, await call(a, 'PATCH', `/members/${b.member.id}`, { name: 'pwned' }), 403, 'forbidden');
  expectProblem(assert, await call(a, 'DELETE', `/members/${b.member.id}`), 403, 'forbidden');
  expectProblem(assert, await call(a, 'POST', `/members/${b.member.id}/heartbeat`), 403, 'forbidden');
  assert.deepEqual((await api(main, 'GET', '/api/v1/rooms/guarded')).json().members.map((m) => m.name).sort(), ['a', 'b']);
  // Editing errors are those of the project calls.
  expectProblem(assert, await call(a, 'POST', '/doc/updates', { version: 1, updates: [{ clientID: 'x', changes: [5] }] }), 422, 'out_of_range');
  expectProblem(assert, await call(a, 'POST', '/doc/updates', { version: 1, updates: [{ clientID: 'rest', changes: [0] }] }), 422, 'invalid_field');
  expectProblem(assert, await call(a, 'GET', '/doc/updates'), 422, 'invalid_field');
  // The stream scope follows the same name rules.
  const bad = await sse(`${main.url}/stream/events?streams=room:Bad`);
  assert.equal(bad.status, 400);
  bad.close();
});

test('expiry: a silent member is swept with a leave event; an empty room is dropped', async () => {
  const s = await roomEvents(short, 'exp');
  const a = await join(short, 'exp', 'awake');
  const b = await join(short, 'exp', 'asleep');
  // a keeps calling, b is silent for longer than the 2 s timeout.
  for (let i = 0; i < 6; i++) {
    await sleep(500);
    assert.equal((await call(a, 'POST', `/members/${a.member.id}/heartbeat`)).status, 204);
  }
  await until(() => ofType(s, 'member.leave').length === 1, 'the expiry leave');
  assert.deepEqual(ofType(s, 'member.leave')[0].data, { ...b.member, reason: 'expired' });
  assert.equal(ofType(s, 'member.leave')[0].actor, null);
  expectProblem(assert, await call(b, 'POST', `/members/${b.member.id}/heartbeat`), 401, 'invalid_token');
  assert.deepEqual((await api(short, 'GET', '/api/v1/rooms/exp')).json().members.map((m) => m.name), ['awake']);

  // The last member leaves: the room stays (empty) for the idle time, then is gone.
  assert.equal((await call(a, 'POST', '/doc/updates', { version: 1, updates: [{ clientID: 'k', changes: [[0, 'kept?']] }] })).status, 200);
  assert.equal((await call(a, 'DELETE', `/members/${a.member.id}`)).status, 204);
  let r = await api(short, 'GET', '/api/v1/rooms/exp');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json().members, []);
  const ttl = int(await short.redis('PTTL', '{r:exp}:room'));
  assert.ok(ttl > 0 && ttl <= 3000, `the empty room expires within rooms.idle_drop_s (PTTL ${ttl})`);
  // A join within the idle time finds the text.
  const back = await join(short, 'exp', 'back');
  assert.equal(back.doc.text, 'kept?');
  assert.equal((await call(back, 'DELETE', `/members/${back.member.id}`)).status, 204);
  await sleep(3300);
  expectProblem(assert, await api(short, 'GET', '/api/v1/rooms/exp'), 404, 'not_found');
  assert.equal(int(await short.redis('EVAL', "return #redis.call('KEYS', '{r:exp}*')", '0')), 0, 'no key of the room is left');
  // The name can be used again: a new, empty room.
  const again = await join(short, 'exp', 'again');
  assert.deepEqual(again.doc, { path: 'room.txt', version: 1, text: '', sum: sha('') });
  s.close();
});

test('a room whose members vanish without a call expires in Redis', async () => {
  await join(short, 'vanish', 'ghost');
  const keys = (await short.redis('KEYS', '{r:vanish}*')).split('\n')
    .map((k) => k.trim().replace(/^\d+\) /, '').replace(/^"(.*)"$/, '$1')).filter(Boolean);
  assert.ok(keys.length >= 7, keys.join(' '));
  for (const k of keys) {
    const ttl = int(await short.redis('PTTL', k));
    assert.ok(ttl > 0 && ttl <= 5000, `${k} expires within member timeout + idle drop (PTTL ${ttl})`);
  }
});

test('rate limits per address: rooms created per minute, calls per second (429 with Retry-After)', async () => {
  // 3 rooms a minute: the 4th new room is refused, joining an existing one is not.
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) await join(limited, `rl${i}`, 'n');
  let r = await api(limited, 'POST', '/api/v1/rooms/rl3/members', { body: { name: 'n' } });
  if (Date.now() - t0 < 50000 && new Date(t0).getUTCMinutes() === new Date().getUTCMinutes()) {
    const p = expectProblem(assert, r, 429, 'rate_limited');
    assert.ok(p.detail.includes('rooms created'));
    const ra = Number(r.headers['retry-after']);
    assert.ok(ra >= 1 && ra <= 60, `Retry-After ${r.headers['retry-after']}`);
    expectProblem(assert, await api(limited, 'GET', '/api/v1/rooms/rl3'), 404, 'not_found', 'nothing was created');
  }
  await sleep(1100);
  const m = await join(limited, 'rl0', 'second');
  // 5 calls a second: a burst of 12 gets some 429s, each with Retry-After.
  await sleep(1100);
  const burst = await Promise.all(Array.from({ length: 12 }, () => call(m, 'POST', `/members/${m.member.id}/heartbeat`)));
  const limitedCalls = burst.filter((x) => x.status === 429);
  assert.ok(limitedCalls.length >= 2, `statuses ${burst.map((x) => x.status)}`);
  assert.ok(burst.every((x) => x.status === 204 || x.status === 429));
  for (const x of limitedCalls) {
    assert.equal(x.problem().code, 'rate_limited');
    assert.equal(x.headers['retry-after'], '1');
  }
  await sleep(1100);
  assert.equal((await call(m, 'POST', `/members/${m.member.id}/heartbeat`)).status, 204, 'the next second is fine');
});

test('rooms disabled: every room route is 404 feature_disabled, the scope does not exist', async () => {
  const hdr = { 'X-Room-Member': `${'A'.repeat(16)}.${'B'.repeat(43)}` };
  for (const [method, suffix, body] of [
    ['GET', ''], ['POST', '/members', { name: 'x' }], ['PATCH', '/members/AAAAAAAAAAAAAAAA', { name: 'x' }],
    ['DELETE', '/members/AAAAAAAAAAAAAAAA'], ['POST', '/members/AAAAAAAAAAAAAAAA/heartbeat'], ['GET', '/doc'],
    ['POST', '/doc/updates', { version: 1, updates: [] }], ['GET', '/doc/updates?since=1'], ['GET', '/doc/sum?version=1'],
    ['PUT', '/doc/cursor', { version: 1 }],
  ]) expectProblem(assert, await api(off, method, `/api/v1/rooms/demo${suffix}`, { headers: hdr, body }), 404, 'feature_disabled', `${method} ${suffix}`);
  const s = await sse(`${off.url}/stream/events?streams=room:demo`);
  assert.equal(s.status, 400);
  s.close();
  assert.equal(int(await off.redis('EVAL', "return #redis.call('KEYS', '*r:*')", '0')), 0);
});
