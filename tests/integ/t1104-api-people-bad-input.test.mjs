// The "Bad input" list over REST: each gets problem+json with a
// stable code, and nothing changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

let c, admin, t, a, b, o;
let course, code, lesson, projectA, part = {};

before(async () => {
  c = await startCluster({ streamers: 0 });
  admin = await user(c, 'root', { admin: true });
  t = await user(c, 'tom');
  a = await user(c, 'ada');
  b = await user(c, 'bea');
  o = await user(c, 'oli');
  const m = await c.cliJson('course-create', '--owner', 'tom', 'Course', '--nickname', 'Tom');
  course = m.course.id;
  code = m.join_code;
  part.t = m.teacher.id;
  part.a = (await c.cliJson('course-join', '--user', 'ada', '--code', code, '--nickname', 'Ada')).participant.id;
  part.b = (await c.cliJson('course-join', '--user', 'bea', '--code', code, '--nickname', 'Bea')).participant.id;
  const m2 = await c.cliJson('course-create', '--owner', 'oli', 'Other');
  part.o = m2.teacher.id;
  lesson = (await c.cliJson('lesson-create', course, 'L1')).lesson.id;
  projectA = (await c.cliJson('project-ensure', lesson, part.a)).project.id;
  await c.cliJson('grant', projectA, part.b, 'r', '--by', part.a);
});
after(async () => { await c?.stop(); });

const snapshot = async () => JSON.stringify([
  (await api(c, 'GET', `/api/v1/projects/${projectA}/grants`, { token: a.token })).json(),
  (await api(c, 'GET', `/api/v1/courses/${course}/participants`, { token: t.token })).json(),
  (await api(c, 'GET', `/api/v1/courses/${course}/lessons`, { token: t.token })).json(),
  (await api(c, 'GET', '/api/v1/courses', { token: o.token })).json(),
]);

test('joining: bad code, twice, duplicate nickname, oversized nickname', async () => {
  const before = await snapshot();
  const join = (tok, body) => api(c, 'POST', '/api/v1/courses/join', { token: tok, body });
  expectProblem(assert, await join(o.token, { code: 'aaaa-bbbb-cccc', nickname: 'X' }), 403, 'invalid_join_code', 'bad code');
  expectProblem(assert, await join(a.token, { code, nickname: 'Ada2' }), 409, 'already_member', 'twice');
  expectProblem(assert, await join(o.token, { code, nickname: 'Ada' }), 409, 'nickname_taken', 'duplicate nickname');
  expectProblem(assert, await join(o.token, { code, nickname: 'n'.repeat(65) }), 422, 'invalid_field', 'long nickname');
  expectProblem(assert, await join(o.token, { code, nickname: ' padded' }), 422, 'invalid_field', 'padded nickname');
  expectProblem(assert, await join(o.token, { code }), 422, 'invalid_field', 'no nickname');
  assert.equal(await snapshot(), before);
});

test('oversized and malformed fields', async () => {
  const before = await snapshot();
  let p = expectProblem(assert, await api(c, 'POST', '/api/v1/courses', { token: o.token, body: { name: 'x'.repeat(201) } }), 422, 'invalid_field', 'course name');
  assert.match(p.detail, /^name:/);
  expectProblem(assert, await api(c, 'POST', `/api/v1/courses/${course}/lessons`, { token: t.token, body: { name: 'ok', description: 'd'.repeat(4001) } }), 422, 'invalid_field', 'description');
  expectProblem(assert, await api(c, 'PATCH', `/api/v1/lessons/${lesson}`, { token: t.token, body: { title: 'x' } }), 422, 'invalid_field', 'unknown lesson field');
  expectProblem(assert, await api(c, 'POST', '/api/v1/users', { token: admin.token, body: { login: 'l'.repeat(65), display_name: 'L' } }), 422, 'invalid_field', 'long login');
  expectProblem(assert, await api(c, 'POST', '/api/v1/users', { token: admin.token, body: { login: 'Upper', display_name: 'L' } }), 422, 'invalid_field', 'bad login');
  expectProblem(assert, await api(c, 'POST', '/api/v1/users', { token: admin.token, body: { login: 'ada', display_name: 'Again' } }), 409, 'already_exists', 'taken login');
  expectProblem(assert, await api(c, 'POST', '/api/v1/users', { token: admin.token, body: { login: 'pwd', display_name: 'P', password: 'short' } }), 422, 'invalid_field', 'short password');
  expectProblem(assert, await api(c, 'PATCH', `/api/v1/courses/${course}/participants/${part.a}`, { token: a.token, body: { nickname: 'Bea' } }), 409, 'nickname_taken', 'nickname taken');
  expectProblem(assert, await api(c, 'PUT', `/api/v1/courses/${course}/lessons/order`, { token: t.token, body: { ids: [lesson, lesson] } }), 422, 'invalid_field', 'reorder twice');
  expectProblem(assert, await api(c, 'PUT', `/api/v1/courses/${course}/lessons/order`, { token: t.token, body: { ids: ['1'] } }), 422, 'invalid_field', 'reorder strings');
  expectProblem(assert, await api(c, 'DELETE', `/api/v1/courses/${course}/participants/${part.t}`, { token: t.token }), 409, 'conflict', 'last teacher');
  expectProblem(assert, await api(c, 'POST', '/api/v1/courses', { token: o.token, body: '{"name":"x"', }), 400, 'malformed_json', 'json');
  expectProblem(assert, await api(c, 'POST', '/api/v1/courses', { token: o.token, body: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media', 'media');
  assert.equal(await snapshot(), before);
});

test('grants: outside the course, not the owner, negative / unknown / inconsistent bits, to the owner, no row', async () => {
  const before = await snapshot();
  const put = (tok, who, body) => api(c, 'PUT', `/api/v1/projects/${projectA}/grants/${who}`, { token: tok, body });
  expectProblem(assert, await put(a.token, part.o, { read: true, write: false }), 422, 'not_a_participant', 'outside the course');
  expectProblem(assert, await put(t.token, part.b, { read: true, write: true }), 403, 'not_project_owner', 'teacher is not the owner');
  expectProblem(assert, await put(b.token, part.b, { read: true, write: true }), 403, 'not_project_owner', 'grantee is not the owner');
  for (const [what, body] of [
    ['negative', { read: -1, write: 0 }],
    ['numbers', { read: 4, write: 2 }],
    ['unknown bit', { read: true, write: false, exec: true }],
    ['missing', { read: true }],
    ['write without read', { read: false, write: true }],
  ]) expectProblem(assert, await put(a.token, part.b, body), 422, 'invalid_bits', what);
  expectProblem(assert, await put(a.token, part.a, { read: true, write: true }), 422, 'invalid_bits', 'to the owner');
  expectProblem(assert, await put(a.token, 999999, { read: true, write: false }), 404, 'not_found', 'no participant');
  expectProblem(assert, await api(c, 'DELETE', `/api/v1/projects/${projectA}/grants/${part.t}`, { token: a.token }), 404, 'not_found', 'no row');
  assert.equal(await snapshot(), before);
});

test('ids: malformed, zero, huge and unknown ids are not found', async () => {
  for (const id of ['abc', '0', '007', '-1', '99999999999999999999', '424242'])
    expectProblem(assert, await api(c, 'GET', `/api/v1/projects/${id}`, { token: admin.token }), 404, 'not_found', `project ${id}`);
  expectProblem(assert, await api(c, 'GET', '/api/v1/courses/424242', { token: a.token }), 404, 'not_found', 'course');
  expectProblem(assert, await api(c, 'GET', '/api/v1/lessons/424242', { token: a.token }), 404, 'not_found', 'lesson');
  expectProblem(assert, await api(c, 'PATCH', `/api/v1/courses/${course}/participants/${part.o}`, { token: t.token, body: { nickname: 'Z' } }), 404, 'not_found', 'participant of another course');
});
