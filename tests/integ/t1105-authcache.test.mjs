// The authorization cache (api/authcache.h): each cohort-api worker keeps
// verified tokens and resolved scopes while the database generation is
// unchanged. Any write, through the API or the `cohort` CLI in another
// process, must take effect on the very next request: a revoked grant, a
// removed participant, a disabled account. Every check first reads enough
// times that the old answer is cached by several of the four workers, and
// each change is made and undone a few times.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

let c, owner, course = 0, joinCode, lesson, project, ownerPart;
const FILE = 'shared.txt';
const TEXT = 'read me\n';
const READS = 8;

before(async () => {
  c = await startCluster({ streamers: 0, env: { COHORT_API_THREADS: '4' } });
  owner = await user(c, 'alice');
  await user(c, 'tess');
  const made = await c.cliJson('course-create', '--owner', 'tess', 'Course 1');
  joinCode = made.join_code;
  ownerPart = (await join('alice')).id;
  course = made.course.id;
  lesson = (await c.cliJson('lesson-create', course, 'Lesson 1')).lesson.id;
  project = (await c.cliJson('project-ensure', lesson, ownerPart)).project.id;
  const r = await api(c, 'PUT', `/api/v1/projects/${project}/file?path=${FILE}`, { token: owner.token, body: TEXT, headers: { 'Content-Type': 'text/plain' } });
  assert.equal(r.status, 201, r.body);
});
after(async () => { await c?.stop(); });

/** Joins login to the course (with a fresh code, and a fresh nickname for re-joins). */
let joins = 0;
async function join(login) {
  const code = course ? (await c.cliJson('course-rotate-code', course)).join_code : joinCode;
  return (await c.cliJson('course-join', '--user', login, '--code', code, '--nickname', `${login}-${++joins}`)).participant;
}

const read = (token) => api(c, 'GET', `/api/v1/projects/${project}/file?path=${FILE}`, { token });

/** READS reads by token, each answered status (and the file's text on 200). */
async function reads(token, status, what) {
  for (let i = 0; i < READS; i++) {
    const r = await read(token);
    assert.equal(r.status, status, `${what}, read ${i}: ${r.body}`);
    if (status === 200) assert.equal(r.body, TEXT);
  }
}

test('a revoked grant refuses the very next read; a new grant allows it again', async () => {
  const bob = await user(c, 'bob');
  const pb = (await join('bob')).id;
  await reads(bob.token, 403, 'no grant yet');
  for (let k = 0; k < 3; k++) {
    // Granted through the API (read only)...
    let r = await api(c, 'PUT', `/api/v1/projects/${project}/grants/${pb}`, { token: owner.token, body: { read: true, write: false } });
    assert.equal(r.status, 200, r.body);
    await reads(bob.token, 200, `round ${k}, granted`);
    // ...read-only: a write is refused, from the cached scope too.
    r = await api(c, 'PUT', `/api/v1/projects/${project}/file?path=${FILE}`, { token: bob.token, body: 'x', headers: { 'Content-Type': 'text/plain', 'If-Match': '"1"' } });
    assert.equal(r.status, 403, r.body);
    // ...revoked through the API.
    r = await api(c, 'DELETE', `/api/v1/projects/${project}/grants/${pb}`, { token: owner.token });
    assert.equal(r.status, 200, r.body);
    await reads(bob.token, 403, `round ${k}, revoked through the API`);
    // Granted and revoked through the CLI, another process.
    await c.cliJson('grant', project, pb, 'r', '--by', ownerPart);
    await reads(bob.token, 200, `round ${k}, granted by the CLI`);
    await c.cliJson('grant', project, pb, 'none', '--by', ownerPart);
    await reads(bob.token, 403, `round ${k}, revoked by the CLI`);
  }
  // The owner was never affected.
  await reads(owner.token, 200, 'owner');
});

test('a participant removed by the CLI is refused on the very next request', async () => {
  const carol = await user(c, 'carol');
  for (let k = 0; k < 3; k++) {
    const pc = (await join('carol')).id;
    await c.cliJson('grant', project, pc, 'r', '--by', ownerPart);
    await reads(carol.token, 200, `round ${k}, participant with a grant`);
    for (let i = 0; i < 4; i++) {
      const r = await api(c, 'GET', `/api/v1/courses/${course}`, { token: carol.token });
      assert.equal(r.status, 200, `round ${k}: the course, as a participant: ${r.body}`);
    }
    await c.cliJson('participant-remove', pc);
    // No longer in the course: the project and the course are not found.
    await reads(carol.token, 404, `round ${k}, removed`);
    for (let i = 0; i < 4; i++) {
      const r = await api(c, 'GET', `/api/v1/courses/${course}`, { token: carol.token });
      assert.equal(r.status, 404, `round ${k}: the course after removal: ${r.body}`);
    }
  }
});

test('a user disabled by the CLI is refused on the very next request with a token that worked', async () => {
  const dave = await user(c, 'dave');
  const pd = (await join('dave')).id;
  await c.cliJson('grant', project, pd, 'r', '--by', ownerPart);
  for (let k = 0; k < 3; k++) {
    await reads(dave.token, 200, `round ${k}, enabled`);
    for (let i = 0; i < 4; i++) assert.equal((await api(c, 'GET', '/api/v1/me', { token: dave.token })).status, 200);
    await c.cliJson('user-disable', 'dave');
    for (let i = 0; i < READS; i++) {
      expectProblem(assert, await read(dave.token), 403, 'user_disabled', `round ${k}, disabled, file read ${i}`);
      expectProblem(assert, await api(c, 'GET', '/api/v1/me', { token: dave.token }), 403, 'user_disabled', `round ${k}, disabled, /me ${i}`);
    }
    await c.cliJson('user-enable', 'dave');
  }
  await reads(dave.token, 200, 'enabled again');
});
