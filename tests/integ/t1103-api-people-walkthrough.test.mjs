// The "Done when", through nginx with curl: an admin creates a
// teacher and three students; the teacher creates a course and two lessons;
// the students join with the code; student A grants B read on A's lesson-1
// project; B can read it, C cannot; A revokes and B no longer can; the access
// listing shows all of this, and each change was published as an event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

let c;
before(async () => { c = await startCluster({ streamers: 0 }); });
after(async () => { await c?.stop(); });

const PW = 'walkthrough-password';

async function ok(r, status, what) {
  assert.equal(r.status, status, `${what}: ${r.body}`);
  return r.status === 204 ? null : r.json();
}

test('admin, teacher, three students: courses, lessons, joins, grants, access', async () => {
  const admin = await user(c, 'root', { admin: true });
  const tok = {};
  for (const login of ['tina', 'amy', 'ben', 'cal']) {
    await ok(await api(c, 'POST', '/api/v1/users', { token: admin.token, body: { login, display_name: login.toUpperCase(), password: PW } }), 201, `create ${login}`);
    const s = await ok(await api(c, 'POST', '/api/v1/sessions', { body: { login, password: PW } }), 201, `sign in ${login}`);
    tok[login] = s.token;
  }

  const made = await ok(await api(c, 'POST', '/api/v1/courses', { token: tok.tina, body: { name: 'Intro to C', description: 'Autumn' } }), 201, 'course');
  const courseId = made.course.id;
  assert.equal(made.teacher.role, 'teacher');
  assert.match(made.join_code, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
  const l1 = (await ok(await api(c, 'POST', `/api/v1/courses/${courseId}/lessons`, { token: tok.tina, body: { name: 'Hello' } }), 201, 'lesson 1')).lesson;
  const l2 = (await ok(await api(c, 'POST', `/api/v1/courses/${courseId}/lessons`, { token: tok.tina, body: { name: 'Pointers' } }), 201, 'lesson 2')).lesson;
  assert.deepEqual([l1.position, l2.position], [1, 2]);

  const pid = {};
  for (const [login, nick] of [['amy', 'A'], ['ben', 'B'], ['cal', 'C']]) {
    const j = await ok(await api(c, 'POST', '/api/v1/courses/join', { token: tok[login], body: { code: made.join_code.toUpperCase(), nickname: nick } }), 201, `join ${login}`);
    assert.equal(j.participant.role, 'student');
    pid[login] = j.participant.id;
  }
  const mine = await ok(await api(c, 'GET', '/api/v1/courses', { token: tok.ben }), 200, 'my courses');
  assert.deepEqual(mine.courses.map((x) => [x.course.name, x.me.role]), [['Intro to C', 'student']]);
  // Students see nicknames and roles, the teacher sees logins too.
  const seenByStudent = await ok(await api(c, 'GET', `/api/v1/courses/${courseId}/participants`, { token: tok.amy }), 200, 'participants (student)');
  assert.deepEqual(seenByStudent.participants.map((p) => Object.keys(p).sort()), Array(4).fill(['id', 'nickname', 'role']));
  const seenByTeacher = await ok(await api(c, 'GET', `/api/v1/courses/${courseId}/participants`, { token: tok.tina }), 200, 'participants (teacher)');
  assert.deepEqual(seenByTeacher.participants.map((p) => p.login).sort(), ['amy', 'ben', 'cal', 'tina']);

  // A's project in lesson 1, created on first access.
  const pa = await ok(await api(c, 'GET', `/api/v1/lessons/${l1.id}/project`, { token: tok.amy }), 200, 'A project');
  assert.deepEqual(pa.access, { read: true, write: true });
  const again = await ok(await api(c, 'GET', `/api/v1/lessons/${l1.id}/project`, { token: tok.amy }), 200, 'A project again');
  assert.equal(again.project.id, pa.project.id);
  const projectA = pa.project.id;

  // Before any grant: B and C cannot read it, the teacher can.
  expectProblem(assert, await api(c, 'GET', `/api/v1/projects/${projectA}`, { token: tok.ben }), 403, 'forbidden', 'B before');
  await ok(await api(c, 'GET', `/api/v1/projects/${projectA}`, { token: tok.tina }), 200, 'teacher');

  // A grants B read.
  const g = await ok(await api(c, 'PUT', `/api/v1/projects/${projectA}/grants/${pid.ben}`, { token: tok.amy, body: { read: true, write: false } }), 200, 'grant');
  assert.deepEqual(g.added, ['read']);
  assert.deepEqual(g.removed, []);
  assert.deepEqual(g.row_after, { read: true, write: false });
  const rb = await ok(await api(c, 'GET', `/api/v1/projects/${projectA}`, { token: tok.ben }), 200, 'B reads');
  assert.deepEqual(rb.access, { read: true, write: false });
  expectProblem(assert, await api(c, 'GET', `/api/v1/projects/${projectA}`, { token: tok.cal }), 403, 'forbidden', 'C cannot');

  // The grant was published on the project's stream and on B's personal stream.
  const projectEvents = await c.redisRaw('XRANGE', `{p:${projectA}}:events`, '-', '+');
  assert.match(projectEvents, /"type":"grant"/);
  const benUser = seenByTeacher.participants.find((p) => p.login === 'ben').user_id;
  const benEvents = await c.redisRaw('XRANGE', `{u:${benUser}}:events`, '-', '+');
  assert.match(benEvents, /"type":"grant"/);
  assert.match(benEvents, /"added":\["read"\]/);
  assert.doesNotMatch(projectEvents, /ben/, 'events carry no logins');

  // The access listings.
  let acc = await ok(await api(c, 'GET', `/api/v1/lessons/${l1.id}/access`, { token: tok.amy }), 200, 'A access');
  const mineB = acc.can_open_mine.find((e) => e.participant_id === pid.ben);
  assert.deepEqual([mineB.read, mineB.write, mineB.explicit_grant], [true, false, true]);
  assert.equal(acc.can_open_mine.find((e) => e.participant_id === pid.cal), undefined);
  assert.ok(acc.can_open_mine.find((e) => e.role === 'teacher'), 'the teacher can open it by default');
  acc = await ok(await api(c, 'GET', `/api/v1/lessons/${l1.id}/access`, { token: tok.ben }), 200, 'B access');
  const openA = acc.can_open.find((e) => e.participant_id === pid.amy);
  assert.deepEqual([openA.project_id, openA.read, openA.write], [projectA, true, false]);
  const grants = await ok(await api(c, 'GET', `/api/v1/projects/${projectA}/grants`, { token: tok.amy }), 200, 'grants');
  assert.deepEqual(grants.grants.map((g) => [g.grantee.id, g.bits]), [[pid.ben, { read: true, write: false }]]);
  assert.equal(grants.grants[0].granted_by, pid.amy);
  assert.ok(grants.can_open.find((e) => e.participant_id === pid.ben && e.explicit_grant));

  // A revokes; B no longer can.
  const rv = await ok(await api(c, 'DELETE', `/api/v1/projects/${projectA}/grants/${pid.ben}`, { token: tok.amy }), 200, 'revoke');
  assert.deepEqual(rv.removed, ['read']);
  assert.equal(rv.row_after, null);
  expectProblem(assert, await api(c, 'GET', `/api/v1/projects/${projectA}`, { token: tok.ben }), 403, 'forbidden', 'B after revoke');
  acc = await ok(await api(c, 'GET', `/api/v1/lessons/${l1.id}/access`, { token: tok.amy }), 200, 'A access after');
  assert.equal(acc.can_open_mine.find((e) => e.participant_id === pid.ben), undefined);
  acc = await ok(await api(c, 'GET', `/api/v1/lessons/${l1.id}/access`, { token: tok.ben }), 200, 'B access after');
  assert.equal(acc.can_open.find((e) => e.participant_id === pid.amy), undefined);
  assert.equal(Number((await c.redis('XLEN', `{u:${benUser}}:events`)).replace(/\D/g, '')), 2);

  // A shuts the teacher out with a row whose bits are both off; the row is listed.
  const teacherPid = seenByTeacher.participants.find((p) => p.login === 'tina').id;
  const shut = await ok(await api(c, 'PUT', `/api/v1/projects/${projectA}/grants/${teacherPid}`, { token: tok.amy, body: { read: false, write: false } }), 200, 'shut out');
  assert.deepEqual(shut.removed, ['read', 'write']);
  expectProblem(assert, await api(c, 'GET', `/api/v1/projects/${projectA}`, { token: tok.tina }), 403, 'forbidden', 'teacher shut out');
  const g2 = await ok(await api(c, 'GET', `/api/v1/projects/${projectA}/grants`, { token: tok.amy }), 200, 'grants after');
  assert.deepEqual(g2.grants.map((g) => [g.grantee.id, g.bits]), [[teacherPid, { read: false, write: false }]]);
  assert.equal(g2.can_open.find((e) => e.participant_id === teacherPid), undefined);

  // Lesson 2 is untouched, and the teacher reorders the lessons.
  const order = await ok(await api(c, 'PUT', `/api/v1/courses/${courseId}/lessons/order`, { token: tok.tina, body: { ids: [l2.id, l1.id] } }), 200, 'reorder');
  assert.deepEqual(order.lessons.map((l) => l.id), [l2.id, l1.id]);
});
