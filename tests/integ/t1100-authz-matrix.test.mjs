// The authorization matrix: every route of `cohort-api --routes` tried as
// anonymous, a user of another course, a student without a grant, a student
// with read, a student with write, the project's owner, the course's teacher
// and an administrator, each with the exact status expected. A route without
// a row here fails the test, so a new route cannot skip the matrix.
//
// Data comes from the CLI. Routes that change things get fresh targets for
// every attempt (a new lesson to delete, a new participant to remove, ...),
// so one actor's success never changes what the next one sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, BIN_DIR, ROOT } from './lib/cluster.mjs';
import { api, user } from './t1099-api-people-helpers.mjs';

const ACTORS = ['anon', 'other', 'none', 'read', 'write', 'owner', 'teacher', 'admin'];

let c;
const who = {};   // actor -> user with token
const part = {};  // actor -> participant id in course 1
let course1, code1, lesson1, projectA, seq = 0;
// Lesson templates live in an object store of this test's own.
const objects = mkdtempSync(path.join(os.tmpdir(), 'cohort-matrix-objects-'));
const TEMPLATE = path.join(ROOT, 'tests/data/archives/good.tar.gz');

const uniq = (p) => `${p}${++seq}`;

before(async () => {
  c = await startCluster({
    streamers: 0,
    env: {
      COHORT_OBJECTS_URL: `file:${objects}`,
      // Anonymous rooms on, with rate limits out of the way of this many calls.
      COHORT_ROOMS_ENABLED: 'true', COHORT_ROOMS_MSGS_PER_S: '100000', COHORT_ROOMS_CREATE_PER_MIN: '100000',
      COHORT_ROOMS_MAX_MEMBERS: '100000',
    },
  });
  const logins = { other: 'oscar', none: 'carol', read: 'bob', write: 'wendy', owner: 'alice', teacher: 'tess', admin: 'root' };
  for (const [actor, login] of Object.entries(logins)) who[actor] = await user(c, login, { admin: actor === 'admin' });
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Course 1');
  course1 = made.course.id;
  code1 = made.join_code;
  part.teacher = made.teacher.id;
  for (const actor of ['owner', 'read', 'write', 'none']) {
    const j = await c.cliJson('course-join', '--user', who[actor].login, '--code', code1, '--nickname', `nick-${actor}`);
    part[actor] = j.participant.id;
  }
  await c.cliJson('course-create', '--owner', 'oscar', 'Course 2');
  lesson1 = (await c.cliJson('lesson-create', course1, 'Lesson 1')).lesson.id;
  await c.cliJson('template-import', lesson1, TEMPLATE);
  projectA = (await c.cliJson('project-ensure', lesson1, part.owner)).project.id;
  await c.cliJson('grant', projectA, part.read, 'r', '--by', part.owner);
  await c.cliJson('grant', projectA, part.write, 'rw', '--by', part.owner);
});
after(async () => { await c?.stop(); rmSync(objects, { recursive: true, force: true }); });

const all = (s) => Object.fromEntries(ACTORS.map((a) => [a, s]));
const users = (s) => ({ ...all(s), anon: 401 });
// A course route: outsiders 404, participants `member`, the teacher `teacher`.
const course = (member, teacher = member, admin = teacher) =>
  ({ anon: 401, other: 404, none: member, read: member, write: member, owner: member, teacher, admin });

const projRead = { anon: 401, other: 404, none: 403, read: 200, write: 200, owner: 200, teacher: 200, admin: 200 };
const projWrite = (ok) => ({ anon: 401, other: 404, none: 403, read: 403, write: ok, owner: ok, teacher: ok, admin: ok });

/* A fresh file in project A, created by its owner. */
async function ownerFile() {
  const p = uniq('f-');
  const r = await api(c, 'PUT', `/api/v1/projects/${projectA}/file?path=${p}`, { token: who.owner.token, body: 'x' });
  assert.equal(r.status, 201, r.body);
  return p;
}

async function freshUserParticipant() {
  const login = uniq('u');
  await c.cliJson('user-create', login, 'Someone');
  // The join-code row rotates the code, so take a current one.
  const code = (await c.cliJson('course-rotate-code', course1)).join_code;
  const j = await c.cliJson('course-join', '--user', login, '--code', code, '--nickname', login);
  return j.participant.id;
}

/* A fresh member of room "matrix" (rooms are public: the same for every
 * actor, whose token is ignored): its id and X-Room-Member header. */
async function roomMember() {
  const r = await api(c, 'POST', '/api/v1/rooms/matrix/members', { body: { name: uniq('m') } });
  assert.equal(r.status, 201, r.body);
  const j = r.json();
  return { id: j.member.id, headers: { 'X-Room-Member': `${j.member.id}.${j.secret}` } };
}
const roomReq = (suffix, extra = {}) => async () => {
  const m = await roomMember();
  return { path: `/api/v1/rooms/matrix${suffix.replace('{member}', m.id)}`, headers: m.headers, ...extra };
};

/* One row per route name: the expected status per actor, and the request. */
const MATRIX = {
  health: { expect: all(200), req: () => ({ path: '/api/v1/health' }) },
  metrics: { expect: all(200), req: () => ({ path: '/api/v1/metrics' }) },
  dev_events: { expect: all(201), req: () => ({ path: '/api/v1/dev/events', body: { stream: 'dev:matrix', type: 't', data: 1 } }) },
  // Public: the caller's token is ignored; an unknown login is refused alike for everyone.
  session_create: { expect: all(401), req: () => ({ path: '/api/v1/sessions', body: { login: uniq('nobody'), password: 'not-a-password' } }) },
  // Signing out revokes the token, so each actor signs out a token of its own.
  session_delete: {
    expect: users(204),
    req: async (actor) => ({ path: '/api/v1/sessions', token: actor === 'anon' ? undefined : (await c.cliJson('mint-token', who[actor].login)).token }),
  },
  me: { expect: users(200), req: () => ({ path: '/api/v1/me' }) },
  user_create: {
    expect: { ...users(403), admin: 201 },
    req: () => ({ path: '/api/v1/users', body: { login: uniq('made'), display_name: 'Made' } }),
  },
  course_list: { expect: users(200), req: () => ({ path: '/api/v1/courses' }) },
  course_create: { expect: users(201), req: () => ({ path: '/api/v1/courses', body: { name: uniq('Course ') } }) },
  // A fresh course owned by the teacher each time: the teacher is already in it.
  course_join: {
    expect: { ...users(201), teacher: 409 },
    req: async () => {
      const m = await c.cliJson('course-create', '--owner', 'tess', uniq('Joinable '));
      return { path: '/api/v1/courses/join', body: { code: m.join_code, nickname: uniq('n') } };
    },
  },
  course_get: { expect: course(200), req: () => ({ path: `/api/v1/courses/${course1}` }) },
  course_rotate_code: { expect: course(403, 200), req: () => ({ path: `/api/v1/courses/${course1}/join-code`, method: 'POST' }) },
  participant_list: { expect: course(200), req: () => ({ path: `/api/v1/courses/${course1}/participants` }) },
  // The owner's own participant: self, or a teacher.
  participant_update: {
    expect: { ...course(403, 200), owner: 200 },
    req: () => ({ path: `/api/v1/courses/${course1}/participants/${part.owner}`, body: { nickname: 'nick-owner' }, method: 'PATCH' }),
  },
  participant_remove: {
    expect: course(403, 204),
    req: async () => ({ path: `/api/v1/courses/${course1}/participants/${await freshUserParticipant()}`, method: 'DELETE' }),
  },
  lesson_list: { expect: course(200), req: () => ({ path: `/api/v1/courses/${course1}/lessons` }) },
  lesson_create: { expect: course(403, 201), req: () => ({ path: `/api/v1/courses/${course1}/lessons`, body: { name: uniq('Lesson ') } }) },
  lesson_reorder: {
    expect: course(403, 200),
    req: async () => {
      const l = await c.cliJson('lesson-list', course1);
      return { path: `/api/v1/courses/${course1}/lessons/order`, method: 'PUT', body: { ids: l.lessons.map((x) => x.id).reverse() } };
    },
  },
  lesson_get: { expect: course(200), req: () => ({ path: `/api/v1/lessons/${lesson1}` }) },
  lesson_update: { expect: course(403, 200), req: () => ({ path: `/api/v1/lessons/${lesson1}`, method: 'PATCH', body: { description: uniq('d') } }) },
  lesson_delete: {
    expect: course(403, 204),
    req: async () => ({ path: `/api/v1/lessons/${(await c.cliJson('lesson-create', course1, uniq('Doomed '))).lesson.id}`, method: 'DELETE' }),
  },
  // An administrator outside the course has no project of their own there.
  lesson_my_project: { expect: course(200, 200, 422), req: () => ({ path: `/api/v1/lessons/${lesson1}/project` }) },
  lesson_access: { expect: course(200, 200, 422), req: () => ({ path: `/api/v1/lessons/${lesson1}/access` }) },
  // Lesson templates: members read the summary, teachers replace and remove.
  template_get: { expect: course(200), req: () => ({ path: `/api/v1/lessons/${lesson1}/template` }) },
  template_put: {
    expect: course(403, 200),
    req: () => ({ path: `/api/v1/lessons/${lesson1}/template`, method: 'PUT', body: readFileSync(TEMPLATE), headers: { 'Content-Type': 'application/gzip' } }),
  },
  template_delete: {
    expect: course(403, 204),
    req: async () => {
      const l = (await c.cliJson('lesson-create', course1, uniq('Templated '))).lesson.id;
      await c.cliJson('template-import', l, TEMPLATE);
      return { path: `/api/v1/lessons/${l}/template`, method: 'DELETE' };
    },
  },
  // Presence and following (issue 6). PUT presence names an editor session
  // with no live stream connection: 409 for everyone who gets that far.
  presence_get: { expect: course(200), req: () => ({ path: `/api/v1/lessons/${lesson1}/presence` }) },
  presence_put: { expect: course(409), req: () => ({ path: `/api/v1/lessons/${lesson1}/presence`, method: 'PUT', body: { client: 'matrix' } }) },
  follow_list: { expect: course(200), req: () => ({ path: `/api/v1/lessons/${lesson1}/follows` }) },
  // Following the owner's project needs read access to it; the owner follows no one's own project.
  follow_set: {
    expect: { anon: 401, other: 404, none: 403, read: 200, write: 200, owner: 422, teacher: 200, admin: 200 },
    req: () => ({ path: `/api/v1/lessons/${lesson1}/follows/${part.owner}`, method: 'PUT' }),
  },
  follow_remove: { expect: course(204), req: () => ({ path: `/api/v1/lessons/${lesson1}/follows/${part.owner}`, method: 'DELETE' }) },
  project_get: {
    expect: { anon: 401, other: 404, none: 403, read: 200, write: 200, owner: 200, teacher: 200, admin: 200 },
    req: () => ({ path: `/api/v1/projects/${projectA}` }),
  },
  grant_list: {
    expect: { anon: 401, other: 404, none: 403, read: 403, write: 403, owner: 200, teacher: 403, admin: 200 },
    req: () => ({ path: `/api/v1/projects/${projectA}/grants` }),
  },
  // Setting the student without a grant to no access changes nothing they can do.
  grant_set: {
    expect: { anon: 401, other: 404, none: 403, read: 403, write: 403, owner: 200, teacher: 403, admin: 200 },
    req: () => ({ path: `/api/v1/projects/${projectA}/grants/${part.none}`, method: 'PUT', body: { read: false, write: false } }),
  },
  grant_revoke: {
    expect: { anon: 401, other: 404, none: 403, read: 403, write: 403, owner: 200, teacher: 403, admin: 200 },
    req: async () => {
      await c.cliJson('grant', projectA, part.none, 'none', '--by', part.owner);
      return { path: `/api/v1/projects/${projectA}/grants/${part.none}`, method: 'DELETE' };
    },
  },
  // The workspace: reading needs read access, every change write access.
  file_tree: { expect: projRead, req: () => ({ path: `/api/v1/projects/${projectA}/tree` }) },
  file_get: { expect: projRead, req: async () => ({ path: `/api/v1/projects/${projectA}/file?path=${await ownerFile()}` }) },
  file_put: { expect: projWrite(201), req: () => ({ path: `/api/v1/projects/${projectA}/file?path=${uniq('put-')}`, method: 'PUT', body: 'text' }) },
  file_delete: { expect: projWrite(204), req: async () => ({ path: `/api/v1/projects/${projectA}/file?path=${await ownerFile()}`, method: 'DELETE' }) },
  dir_create: { expect: projWrite(201), req: () => ({ path: `/api/v1/projects/${projectA}/dirs`, body: { path: uniq('dir-') } }) },
  file_move: {
    expect: projWrite(200),
    req: async () => ({ path: `/api/v1/projects/${projectA}/move`, body: { from: await ownerFile(), to: uniq('moved-') } }),
  },
  project_archive: { expect: projRead, req: () => ({ path: `/api/v1/projects/${projectA}/archive?format=zip` }) },
  // Live editing: reading, pulling, the sum and cursors need read access, pushing write access.
  doc_get: { expect: projRead, req: async () => ({ path: `/api/v1/projects/${projectA}/doc?path=${await ownerFile()}` }) },
  doc_push: {
    expect: projWrite(200),
    req: async () => ({
      path: `/api/v1/projects/${projectA}/doc/updates?path=${await ownerFile()}`,
      body: { version: 1, updates: [{ clientID: 'matrix', changes: [1, [0, '!']] }] },
    }),
  },
  doc_pull: { expect: projRead, req: async () => ({ path: `/api/v1/projects/${projectA}/doc/updates?path=${await ownerFile()}&since=1` }) },
  doc_sum: { expect: projRead, req: async () => ({ path: `/api/v1/projects/${projectA}/doc/sum?path=${await ownerFile()}&version=1` }) },
  doc_cursor: {
    expect: { ...projRead, read: 204, write: 204, owner: 204, teacher: 204, admin: 204 },
    req: async () => ({
      path: `/api/v1/projects/${projectA}/doc/cursor?path=${await ownerFile()}`,
      method: 'PUT',
      body: { version: 1, clientID: 'matrix', ranges: [{ anchor: 0, head: 1 }], main: 0 },
    }),
  },
  // Anonymous rooms (docs/rooms.md): public routes, the same answer for every actor.
  room_join: { expect: all(201), req: () => ({ path: '/api/v1/rooms/matrix/members', body: { name: uniq('j') } }) },
  room_get: { expect: all(200), req: async () => { await roomMember(); return { path: '/api/v1/rooms/matrix' }; } },
  room_rename: { expect: all(200), req: roomReq('/members/{member}', { method: 'PATCH', body: { name: 'renamed' } }) },
  room_leave: { expect: all(204), req: roomReq('/members/{member}', { method: 'DELETE' }) },
  room_heartbeat: { expect: all(204), req: roomReq('/members/{member}/heartbeat', { method: 'POST' }) },
  room_doc_get: { expect: all(200), req: roomReq('/doc') },
  room_doc_push: {
    expect: all(200),
    req: async () => {
      const m = await roomMember();
      const d = (await api(c, 'GET', '/api/v1/rooms/matrix/doc', { headers: m.headers })).json();
      return { path: '/api/v1/rooms/matrix/doc/updates', headers: m.headers,
        body: { version: d.version, updates: [{ clientID: 'matrix', changes: [[0, 'x'], d.text.length] }] } };
    },
  },
  room_doc_pull: { expect: all(200), req: roomReq('/doc/updates?since=1') },
  room_doc_sum: {
    expect: all(200),
    req: async () => {
      const m = await roomMember();
      const d = (await api(c, 'GET', '/api/v1/rooms/matrix/doc', { headers: m.headers })).json();
      return { path: `/api/v1/rooms/matrix/doc/sum?version=${d.version}`, headers: m.headers };
    },
  },
  room_doc_cursor: {
    expect: all(204),
    req: roomReq('/doc/cursor', { method: 'PUT', body: { version: 1, clientID: 'matrix', ranges: [{ anchor: 0, head: 0 }], main: 0 } }),
  },
};

function routeTable() {
  return new Promise((resolve, reject) => {
    execFile(path.join(BIN_DIR, 'cohort-api'), ['--routes'], (err, stdout) => {
      if (err) return reject(err);
      resolve(stdout.trim().split('\n').map((l) => {
        const [method, pattern, permission, name] = l.split('\t');
        return { method, pattern, permission, name };
      }));
    });
  });
}

test('every route has a row, and every row a route', async () => {
  const names = (await routeTable()).map((r) => r.name).sort();
  assert.deepEqual(Object.keys(MATRIX).sort(), names, 'the matrix rows must be exactly the route table');
  for (const [name, row] of Object.entries(MATRIX))
    assert.deepEqual(Object.keys(row.expect).sort(), [...ACTORS].sort(), `${name}: one status per actor`);
});

test('each route answers each actor with the expected status', async () => {
  const routes = await routeTable();
  const failures = [];
  for (const r of routes) {
    const row = MATRIX[r.name];
    if (!row) continue; // reported by the test above
    for (const actor of ACTORS) {
      const q = await row.req(actor);
      const token = 'token' in q ? q.token : who[actor]?.token;
      const method = q.method || r.method;
      const res = await api(c, method, q.path, { token, body: q.body, headers: q.headers });
      const want = row.expect[actor];
      if (res.status !== want) failures.push(`${r.name} as ${actor}: ${method} ${q.path} -> ${res.status}, expected ${want} (${res.body.slice(0, 200)})`);
      // Errors are problem+json with a code that goes with the status.
      if (res.status >= 400) {
        const p = res.problem();
        if (!p || p.status !== res.status) failures.push(`${r.name} as ${actor}: not a problem+json answer: ${res.body.slice(0, 200)}`);
        if (res.status === 401 && !res.headers['www-authenticate'] && r.name !== 'session_create')
          failures.push(`${r.name} as ${actor}: 401 without WWW-Authenticate`);
      }
    }
  }
  assert.deepEqual(failures, []);
});
