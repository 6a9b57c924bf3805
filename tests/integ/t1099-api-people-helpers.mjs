// Helpers for the people/courses/projects tests (t11xx): JSON requests
// through nginx with real curl, and users with tokens made by the CLI.
import { curl } from './lib/cluster.mjs';

/** A request to the API as the holder of token (none: anonymous). body: an
 * object (sent as JSON), a string, or a Buffer (sent as is: set Content-Type). */
export async function api(c, method, path, { token, body, headers = {}, cookie } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (cookie) h.Cookie = cookie;
  let data;
  if (body !== undefined) {
    data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!h['Content-Type']) h['Content-Type'] = 'application/json';
  }
  const r = await curl(c.url + path, { method, headers: h, body: data });
  r.problem = () => {
    if (!String(r.headers['content-type']).startsWith('application/problem+json')) return null;
    return r.json();
  };
  return r;
}

/** Creates a user without a password (fast: no Argon2) and mints a token. */
export async function user(c, login, { admin = false } = {}) {
  const args = ['user-create', login, `User ${login}`];
  if (admin) args.push('--admin');
  const u = (await c.cliJson(...args)).user;
  const t = await c.cliJson('mint-token', login);
  return { ...u, token: t.token, jti: t.jti };
}

/** Asserts a problem+json answer with this status and code. */
export function expectProblem(assert, r, status, code, what = '') {
  assert.equal(r.status, status, `${what}: status (body ${r.body})`);
  const p = r.problem();
  assert.ok(p, `${what}: problem+json expected, got ${r.headers['content-type']} ${r.body}`);
  assert.equal(p.code, code, `${what}: code (detail ${p.detail})`);
  return p;
}
