// Tokens minted by a standard JWT library (jose) are accepted by cohort-api
// exactly when they should be: HS256 with the server secret for cohort's own
// issuer, EdDSA (Ed25519) with a configured public key for the external
// issuer; expired, not-yet-valid, wrong-audience, wrong-issuer, alg none and
// algorithm-confusion tokens are refused with 401 invalid_token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, generateKeyPair, exportJWK } from 'jose';
import { startCluster } from './lib/cluster.mjs';
import { api, expectProblem } from './t1099-api-people-helpers.mjs';

const EXT_ISS = 'https://lms.example.test';
const EXT_AUD = 'cohort-classroom';
let c, secret, priv, pubRaw;

before(async () => {
  const kp = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  priv = kp.privateKey;
  const jwk = await exportJWK(kp.publicKey);
  pubRaw = Buffer.from(jwk.x, 'base64url');
  assert.equal(pubRaw.length, 32);
  c = await startCluster({
    streamers: 0,
    env: {
      COHORT_AUTH_EXTERNAL_ISSUER: EXT_ISS,
      COHORT_AUTH_EXTERNAL_AUDIENCE: EXT_AUD,
      COHORT_AUTH_EXTERNAL_KEYS: pubRaw.toString('base64'),
    },
  });
  secret = Buffer.from(readFileSync(path.join(c.dir, 'jwt.secret'), 'utf8').trim(), 'hex');
  assert.equal(secret.length, 32);
  await c.cliJson('user-create', 'ann', 'Ann');
});
after(async () => { await c?.stop(); });

const now = () => Math.floor(Date.now() / 1000);

function local(claims = {}, { key = secret, alg = 'HS256' } = {}) {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(claims.iss ?? 'cohort').setAudience(claims.aud ?? 'cohort')
    .setSubject('ann').setIssuedAt().setJti(`j${Math.random().toString(36).slice(2)}`)
    .setExpirationTime(claims.exp ?? now() + 600)
    .sign(key);
}

function external(claims = {}, { key = priv, alg = 'EdDSA' } = {}) {
  const j = new SignJWT({ ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(claims.iss ?? EXT_ISS).setAudience(claims.aud ?? EXT_AUD)
    .setSubject('ann').setIssuedAt()
    .setExpirationTime(claims.exp ?? now() + 600);
  if (claims.nbf) j.setNotBefore(claims.nbf);
  return j.sign(key);
}

async function me(token) {
  return api(c, 'GET', '/api/v1/me', { token });
}

test('HS256 signed with the secret file\'s bytes is accepted', async () => {
  const r = await me(await local());
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().user.login, 'ann');
});

test('EdDSA from the external issuer\'s key is accepted', async () => {
  const r = await me(await external());
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().user.login, 'ann');
});

test('refused: expired, not yet valid, wrong audience, wrong issuer, wrong key', async () => {
  const cases = {
    'local expired': await local({ exp: now() - 3600 }),
    'external expired': await external({ exp: now() - 3600 }),
    'nbf in the future': await external({ nbf: now() + 3600 }),
    'local wrong aud': await local({ aud: 'someone-else' }),
    'external wrong aud': await external({ aud: 'cohort' }),
    'unknown issuer': await external({ iss: 'https://evil.example' }),
    'HS256 with another secret': await local({}, { key: Buffer.alloc(32, 7) }),
    'EdDSA with another key': await external({}, { key: (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey }),
  };
  for (const [what, tok] of Object.entries(cases)) expectProblem(assert, await me(tok), 401, 'invalid_token', what);
});

test('refused: alg none and algorithm confusion', async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = { iss: EXT_ISS, aud: EXT_AUD, sub: 'ann', iat: now(), exp: now() + 600 };
  const cases = {
    'alg none (external)': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`,
    'alg none (local)': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...payload, iss: 'cohort', aud: 'cohort' })}.`,
    // The external public key used as an HMAC secret.
    'HS256 with the Ed25519 public key': await external({}, { key: pubRaw, alg: 'HS256' }),
    // cohort's own issuer only signs HS256.
    'EdDSA with the local issuer': await external({ iss: 'cohort', aud: 'cohort' }),
  };
  for (const [what, tok] of Object.entries(cases)) expectProblem(assert, await me(tok), 401, 'invalid_token', what);
});

test('a token for an unknown user is refused', async () => {
  const tok = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(EXT_ISS).setAudience(EXT_AUD)
    .setSubject('nobody').setIssuedAt().setExpirationTime(now() + 600).sign(priv);
  expectProblem(assert, await me(tok), 401, 'invalid_token', 'unknown subject');
});

test('cohort-api refuses to start when the keys cannot be loaded', async () => {
  const { execFile } = await import('node:child_process');
  const { BIN_DIR } = await import('./lib/cluster.mjs');
  const runApi = (env) => new Promise((resolve) => {
    execFile(path.join(BIN_DIR, 'cohort-api'), [], {
      env: { PATH: process.env.PATH, COHORT_API_LISTEN: path.join(c.dir, 'never.sock'), COHORT_DB_PATH: path.join(c.dir, 'cohort.db'), ...env },
      timeout: 20000,
    }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }));
  });
  let r = await runApi({ COHORT_AUTH_SECRET_FILE: path.join(c.dir, 'missing.secret') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /"event":"auth_keys_unusable"/);
  r = await runApi({ COHORT_AUTH_SECRET_FILE: path.join(c.dir, 'jwt.secret'), COHORT_AUTH_EXTERNAL_ISSUER: EXT_ISS, COHORT_AUTH_EXTERNAL_KEYS: 'not-a-key' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /"event":"auth_keys_unusable"/);
});
