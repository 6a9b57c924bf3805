// Signing in and out through nginx: the token and the cookie, the cookie
// as a credential, sign-out revoking every copy of the token, wrong
// passwords and unknown logins alike, disabled accounts, and the failed
// sign-in limits per login and per client address (with Retry-After).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { api, user, expectProblem } from './t1099-api-people-helpers.mjs';

let c, admin;
const PW = 'correct horse battery';

before(async () => {
  c = await startCluster({
    streamers: 0,
    env: { COHORT_AUTH_LOGIN_MAX_FAILURES: '3', COHORT_AUTH_ADDR_MAX_FAILURES: '12', COHORT_AUTH_LOGIN_WINDOW_S: '120' },
  });
  admin = await user(c, 'root', { admin: true });
  for (const login of ['pat', 'pam', 'dis']) {
    const r = await api(c, 'POST', '/api/v1/users', { token: admin.token, body: { login, display_name: login, password: PW } });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.body.includes(PW), false);
  }
  await c.cliJson('user-disable', 'dis');
});
after(async () => { await c?.stop(); });

const signIn = (login, password, extra = {}) => api(c, 'POST', '/api/v1/sessions', { body: { login, password }, ...extra });

test('sign in: token in the body and in an HttpOnly SameSite=Lax cookie; the cookie is a credential', async () => {
  const r = await signIn('pat', PW);
  assert.equal(r.status, 201, r.body);
  const s = r.json();
  assert.equal(s.user.login, 'pat');
  assert.match(s.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.ok(s.expires_at > Date.now() / 1000 + 3600);
  const cookie = r.headers['set-cookie'];
  assert.ok(cookie.startsWith(`cohort_session=${s.token};`), cookie);
  for (const attr of ['HttpOnly', 'SameSite=Lax', 'Path=/', 'Max-Age=43200']) assert.ok(cookie.includes(attr), `${attr} in ${cookie}`);
  assert.equal(cookie.includes('Secure'), false);

  const me = await api(c, 'GET', '/api/v1/me', { cookie: `other=1; cohort_session=${s.token}` });
  assert.equal(me.status, 200, me.body);
  assert.equal(me.json().user.login, 'pat');
  const me2 = await api(c, 'GET', '/api/v1/me', { token: s.token });
  assert.equal(me2.json().user.login, 'pat');
});

test('sign out revokes the token everywhere and clears the cookie', async () => {
  const s = (await signIn('pam', PW)).json();
  const out = await api(c, 'DELETE', '/api/v1/sessions', { cookie: `cohort_session=${s.token}` });
  assert.equal(out.status, 204, out.body);
  assert.match(out.headers['set-cookie'], /^cohort_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax/);
  const claims = JSON.parse(Buffer.from(s.token.split('.')[1], 'base64url'));
  const ttl = Number(await c.redis('TTL', `auth:revoked:${claims.jti}`).then((x) => x.replace(/\D/g, '')));
  assert.ok(ttl > 3600, `revocation kept until the token expires (ttl ${ttl})`);
  for (const how of [{ token: s.token }, { cookie: `cohort_session=${s.token}` }]) {
    const r = await api(c, 'GET', '/api/v1/me', how);
    const p = expectProblem(assert, r, 401, 'invalid_token', 'signed-out token');
    assert.match(r.headers['www-authenticate'], /^Bearer/);
    assert.match(p.detail, /signed out/);
  }
  // A new sign-in works.
  const again = await signIn('pam', PW);
  assert.equal(again.status, 201);
});

test('no token, a malformed header, garbage and forged tokens', async () => {
  let r = await api(c, 'GET', '/api/v1/me');
  expectProblem(assert, r, 401, 'unauthenticated', 'no token');
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="cohort"');
  r = await api(c, 'GET', '/api/v1/me', { headers: { Authorization: 'Basic cm9vdDpyb290' } });
  expectProblem(assert, r, 401, 'invalid_token', 'Basic');
  r = await api(c, 'GET', '/api/v1/me', { token: 'not.a.jwt' });
  expectProblem(assert, r, 401, 'invalid_token', 'garbage');
  const [h, p] = admin.token.split('.');
  r = await api(c, 'GET', '/api/v1/me', { token: `${h}.${p}.${'A'.repeat(43)}` });
  expectProblem(assert, r, 401, 'invalid_token', 'forged signature');
  // A bad token is refused even on a route anyone could call with none... except public ones.
  r = await api(c, 'GET', '/api/v1/health', { token: 'not.a.jwt' });
  assert.equal(r.status, 200);
});

test('wrong password and unknown login: the same answer, similar time; disabled accounts', async () => {
  const t0 = Date.now();
  const wrong = await signIn('pat', 'wrong password!');
  const t1 = Date.now();
  const unknown = await signIn('nobody-here', 'wrong password!');
  const t2 = Date.now();
  const a = expectProblem(assert, wrong, 401, 'invalid_credentials', 'wrong password');
  const b = expectProblem(assert, unknown, 401, 'invalid_credentials', 'unknown login');
  assert.equal(a.detail, b.detail);
  assert.equal(wrong.headers['set-cookie'], undefined);
  // An unknown login still spends one Argon2id verification.
  assert.ok(t2 - t1 >= (t1 - t0) / 4, `unknown login ${t2 - t1} ms vs wrong password ${t1 - t0} ms`);

  expectProblem(assert, await signIn('dis', PW), 403, 'user_disabled', 'disabled, right password');
  expectProblem(assert, await signIn('dis', 'wrong password!'), 401, 'invalid_credentials', 'disabled, wrong password');
  const tok = (await c.cliJson('mint-token', 'pat')).token;
  await c.cliJson('user-disable', 'pat');
  expectProblem(assert, await api(c, 'GET', '/api/v1/me', { token: tok }), 403, 'user_disabled', 'token of a disabled user');
  await c.cliJson('user-enable', 'pat');
  assert.equal((await api(c, 'GET', '/api/v1/me', { token: tok })).status, 200);
});

test('bad sign-in bodies', async () => {
  expectProblem(assert, await api(c, 'POST', '/api/v1/sessions', { body: 'login=pat', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media', 'form');
  expectProblem(assert, await api(c, 'POST', '/api/v1/sessions', { body: '{"login":' }), 400, 'malformed_json', 'json');
  expectProblem(assert, await api(c, 'POST', '/api/v1/sessions', { body: { login: 'pat' } }), 422, 'invalid_field', 'no password');
  expectProblem(assert, await api(c, 'POST', '/api/v1/sessions', { body: { login: 'pat', password: 7 } }), 422, 'invalid_field', 'number');
});

test('failed sign-ins are limited per login, with Retry-After; a success resets the login', async () => {
  // Start from clean counters (earlier tests failed on purpose too).
  await c.redis('DEL', 'auth:fail:addr:127.0.0.1', 'auth:fail:login:pat', 'auth:fail:login:pam');
  // Two failures, a success (reset), two more: still under the limit of 3.
  for (let i = 0; i < 2; i++) expectProblem(assert, await signIn('pam', 'wrong password!'), 401, 'invalid_credentials', `pam ${i}`);
  assert.equal((await signIn('pam', PW)).status, 201);
  for (let i = 0; i < 2; i++) expectProblem(assert, await signIn('pam', 'wrong password!'), 401, 'invalid_credentials', `pam again ${i}`);
  assert.equal((await signIn('pam', PW)).status, 201);

  for (let i = 0; i < 3; i++) expectProblem(assert, await signIn('pat', 'wrong password!'), 401, 'invalid_credentials', `pat ${i}`);
  const r = await signIn('pat', PW);
  const p = expectProblem(assert, r, 429, 'rate_limited', 'over the login limit, even with the right password');
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry > 0 && retry <= 120, `Retry-After ${r.headers['retry-after']}`);
  assert.match(p.detail, /try again/);
  const ttl = Number((await c.redis('TTL', 'auth:fail:login:pat')).replace(/\D/g, ''));
  assert.ok(ttl > 0 && ttl <= 120, `the counter expires (ttl ${ttl})`);
  // Other logins are not affected.
  assert.equal((await signIn('pam', PW)).status, 201);
  // The window ends: the counter is gone, the login works again.
  await c.redis('DEL', 'auth:fail:login:pat');
  assert.equal((await signIn('pat', PW)).status, 201);
});

test('failed sign-ins are limited per client address', async () => {
  await c.redis('DEL', 'auth:fail:addr:127.0.0.1');
  for (let i = 0; i < 12; i++) expectProblem(assert, await signIn(`ghost${i}`, 'wrong password!'), 401, 'invalid_credentials', `ghost ${i}`);
  const r = await signIn('pam', PW);
  expectProblem(assert, r, 429, 'rate_limited', 'over the address limit');
  assert.ok(Number(r.headers['retry-after']) > 0);
  await c.redis('DEL', 'auth:fail:addr:127.0.0.1');
  assert.equal((await signIn('pam', PW)).status, 201);
});

test('the cookie is Secure when auth.cookie_secure is on', async () => {
  const c2 = await startCluster({ streamers: 0, env: { COHORT_AUTH_COOKIE_SECURE: 'true' } });
  try {
    const a = await user(c2, 'root', { admin: true });
    assert.equal((await api(c2, 'POST', '/api/v1/users', { token: a.token, body: { login: 'sam', display_name: 'Sam', password: PW } })).status, 201);
    const r = await api(c2, 'POST', '/api/v1/sessions', { body: { login: 'sam', password: PW } });
    assert.equal(r.status, 201);
    assert.match(r.headers['set-cookie'], /; Secure$/);
  } finally {
    await c2.stop();
  }
});
