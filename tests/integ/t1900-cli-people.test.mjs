// The cohort CLI's people commands against a real database in a temp dir (no
// servers needed): every success prints one JSON object, every failure one
// line on stderr with the stable error code and exit status 1 (2 for usage),
// and nothing changes on failure. Walks the demo story — seed, grant,
// read, revoke — and checks that a standard JWT library accepts mint-token's
// tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jwtVerify } from 'jose';
import { ROOT, BIN_DIR } from './lib/cluster.mjs';

let dir;
let env;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cohort-cli-'));
  env = {
    PATH: process.env.PATH,
    COHORT_DB_PATH: path.join(dir, 'cohort.db'),
    COHORT_DB_MIGRATIONS: path.join(ROOT, 'sql/sqlite'),
    COHORT_AUTH_SECRET_FILE: path.join(dir, 'keys', 'jwt.secret'),
  };
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Runs cohort; resolves {code, stdout, stderr}. */
function cli(args, { input } = {}) {
  return new Promise((resolve) => {
    const p = execFile(path.join(BIN_DIR, 'cohort'), args.map(String), { env, cwd: ROOT, timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    p.stdin.on('error', () => {}); // a command that does not read stdin may exit first
    p.stdin.end(input);
  });
}

/** Runs cohort, expects success and one JSON object on one line. */
async function ok(...args) {
  const r = await cli(args);
  assert.equal(r.code, 0, `cohort ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^\{.*\}\n$/);
  return JSON.parse(r.stdout);
}

/** Runs cohort, expects exit status `code` and one stderr line naming `errcode`. */
async function fails(code, errcode, ...args) {
  const r = await cli(args);
  assert.equal(r.code, code, `cohort ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^cohort [a-z-]+: [^\n]+\n$/, 'one line on stderr');
  if (errcode) assert.ok(r.stderr.includes(`(${errcode})`), r.stderr);
  return r.stderr;
}

test('refuses to run before the database is migrated, without creating it', async () => {
  await fails(1, 'database_error', 'participants', '1');
  assert.throws(() => statSync(env.COHORT_DB_PATH));
});

test('migrate, init-secret and seed-demo are idempotent', async () => {
  assert.deepEqual(await ok('migrate'), { from: 0, to: 1, changed: true });
  assert.deepEqual(await ok('migrate'), { from: 1, to: 1, changed: false });

  const s1 = await ok('init-secret');
  assert.equal(s1.created, true);
  assert.equal(statSync(env.COHORT_AUTH_SECRET_FILE).mode & 0o777, 0o600);
  const secret = readFileSync(env.COHORT_AUTH_SECRET_FILE, 'utf8');
  assert.equal((await ok('init-secret')).created, false);
  assert.equal(readFileSync(env.COHORT_AUTH_SECRET_FILE, 'utf8'), secret);

  const d1 = await ok('seed-demo');
  assert.equal(d1.created, true);
  assert.deepEqual(d1.users.map((u) => u.login), ['teacher', 'alice', 'bob', 'carol', 'admin']);
  assert.ok(d1.users.every((u) => u.password === 'cohort-demo' && u.id > 0));
  assert.equal(d1.course.name, 'Intro to C');
  assert.match(d1.course.join_code, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  assert.deepEqual(d1.lessons.map((l) => l.name), ['Hello, world', 'Pointers']);

  const d2 = await ok('seed-demo');
  assert.equal(d2.created, false);
  assert.deepEqual(d2.users, d1.users);
  assert.equal(d2.course.id, d1.course.id);
  assert.equal(d2.course.join_code, null);
  assert.deepEqual(d2.lessons, d1.lessons);
  const people = await ok('participants', d1.course.id);
  assert.deepEqual(people.participants.map((p) => [p.login, p.role, p.nickname]),
    [['teacher', 'teacher', 'Teacher'], ['alice', 'student', 'Alice'], ['bob', 'student', 'Bob'], ['carol', 'student', 'Carol']]);
});

test('the demo story: a grant lets one student read, revoking it takes that back', async () => {
  const course = (await ok('course-list', '--user', 'alice')).courses[0];
  const lesson = (await ok('lesson-list', course.id)).lessons[0];
  const parts = Object.fromEntries((await ok('participants', course.id)).participants.map((p) => [p.login, p.id]));
  const project = (await ok('project-ensure', lesson.id, parts.alice)).project;
  assert.equal(project.owner_id, parts.alice);
  assert.equal((await ok('project-ensure', lesson.id, parts.alice)).project.id, project.id);

  const canOpen = async (login) => (await ok('access', '--user', login, lesson.id)).can_open
    .filter((e) => e.participant_id === parts.alice);

  const g = await ok('grant', project.id, parts.bob, 'r', '--by', parts.alice);
  assert.deepEqual([g.row_before, g.row_after, g.added, g.removed], [null, { read: true, write: false }, ['read'], []]);
  assert.deepEqual((await canOpen('bob')).map((e) => [e.project_id, e.read, e.write, e.explicit_grant]),
    [[project.id, true, false, true]]);
  assert.deepEqual(await canOpen('carol'), []);
  const mine = (await ok('access', '--user', 'alice', lesson.id)).can_open_mine.map((e) => e.nickname);
  assert.deepEqual(mine, ['Teacher', 'Bob']);

  const r = await ok('revoke', project.id, parts.bob);
  assert.deepEqual([r.row_before, r.row_after, r.removed], [{ read: true, write: false }, null, ['read']]);
  assert.deepEqual(await canOpen('bob'), []);
  await fails(1, 'not_found', 'revoke', project.id, parts.bob);

  // Only the owner grants; write needs read; the owner's own access is fixed.
  await fails(1, 'not_project_owner', 'grant', project.id, parts.carol, 'r', '--by', parts.bob);
  await fails(2, null, 'grant', project.id, parts.carol, 'w', '--by', parts.alice);
  await fails(1, 'invalid_bits', 'grant', project.id, parts.alice, 'rw', '--by', parts.alice);
  // A teacher shut out by a row with no bits.
  const t = await ok('grant', project.id, parts.teacher, 'none', '--by', parts.alice);
  assert.deepEqual([t.access_before, t.access_after, t.removed],
    [{ read: true, write: true }, { read: false, write: false }, ['read', 'write']]);
  assert.deepEqual(await canOpen('teacher'), []);
});

test('users: password from stdin only, duplicates and bad fields refused', async () => {
  const r = await cli(['user-create', 'dave', 'Dave Null', '--password-stdin'], { input: 'correct horse battery\n' });
  assert.equal(r.code, 0, r.stderr);
  const u = JSON.parse(r.stdout);
  assert.equal(u.has_password, true);
  assert.equal(u.user.login, 'dave');
  assert.ok(!r.stdout.includes('correct horse'));

  const short = await cli(['user-create', 'erin', 'Erin', '--password-stdin'], { input: 'short\n' });
  assert.equal(short.code, 1);
  assert.match(short.stderr, /\(out_of_range\)\n$/);
  await fails(1, 'already_exists', 'user-create', 'dave', 'Other Dave');
  await fails(1, 'invalid_field', 'user-create', 'Dave', 'Upper case login');
  await fails(1, 'invalid_field', 'user-create', 'erin', 'two\nlines');
  await fails(2, null, 'user-create', 'erin');
  await fails(2, null, 'user-create', 'erin', 'Erin', '--bogus');
  await fails(1, 'not_found', 'course-list', '--user', 'erin');

  assert.equal((await ok('user-disable', 'dave')).user.disabled, true);
  await fails(1, 'user_disabled', 'mint-token', 'dave');
  assert.equal((await ok('user-enable', 'dave')).user.disabled, false);
});

test('mint-token: a standard JWT library verifies the token', async () => {
  const t = await ok('mint-token', 'alice', '--ttl', 120);
  assert.equal(t.sub, 'alice');
  assert.equal(t.exp - t.iat, 120);
  const key = Buffer.from(readFileSync(env.COHORT_AUTH_SECRET_FILE, 'utf8').trim(), 'hex');
  const { payload, protectedHeader } = await jwtVerify(t.token, key, { issuer: 'cohort', audience: 'cohort', algorithms: ['HS256'] });
  assert.equal(protectedHeader.alg, 'HS256');
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.jti, t.jti);
  await fails(2, null, 'mint-token', 'alice', '--ttl', '0');
  await fails(2, null, 'mint-token', 'alice', '--ttl', '12x');
});

test('courses, nicknames and lessons: refusals change nothing', async () => {
  const c = await ok('course-create', '--owner', 'dave', 'Systems', '--nickname', 'Dr. Null');
  const code = c.join_code;
  const j = await ok('course-join', '--user', 'alice', '--code', code.toUpperCase().replaceAll('-', ''), '--nickname', 'Al');
  assert.equal(j.course.id, c.course.id);
  await fails(1, 'already_member', 'course-join', '--user', 'alice', '--code', code, '--nickname', 'Al2');
  await fails(1, 'nickname_taken', 'course-join', '--user', 'bob', '--code', code, '--nickname', 'Al');
  const rotated = (await ok('course-rotate-code', c.course.id)).join_code;
  await fails(1, 'invalid_join_code', 'course-join', '--user', 'bob', '--code', code, '--nickname', 'Bo');
  await ok('course-join', '--user', 'bob', '--code', rotated, '--nickname', 'Bo');
  await fails(1, 'nickname_taken', 'nickname', j.participant.id, 'Bo');
  assert.equal((await ok('nickname', j.participant.id, 'Alice')).participant.nickname, 'Alice');
  await fails(1, 'conflict', 'participant-remove', c.teacher.id);
  assert.equal((await ok('participant-remove', j.participant.id)).removed.login, 'alice');

  const ids = [];
  for (const name of ['One', 'Two', 'Three']) ids.push((await ok('lesson-create', c.course.id, name)).lesson.id);
  const order = async () => (await ok('lesson-list', c.course.id)).lessons.map((l) => [l.id, l.position]);
  await ok('lesson-reorder', c.course.id, [ids[2], ids[0], ids[1]].join(','));
  const reordered = [[ids[2], 1], [ids[0], 2], [ids[1], 3]];
  assert.deepEqual(await order(), reordered);
  await fails(1, 'invalid_field', 'lesson-reorder', c.course.id, [ids[2], ids[0]].join(','));
  await fails(1, 'invalid_field', 'lesson-reorder', c.course.id, [ids[2], ids[0], ids[0]].join(','));
  await fails(2, null, 'lesson-reorder', c.course.id, '1,,2');
  assert.deepEqual(await order(), reordered);
  await fails(2, null, 'lesson-update', ids[0]);
  assert.equal((await ok('lesson-update', ids[0], '--description', 'd')).lesson.description, 'd');
  await ok('lesson-delete', ids[2]);
  assert.deepEqual(await order(), [[ids[0], 1], [ids[1], 2]]);
  await fails(1, 'not_found', 'lesson-get', ids[2]);
  await fails(2, null, 'lesson-get', '-3');
});
