// Routing through nginx: unknown routes, wrong methods (with Allow), HEAD,
// paths that are not quite a route, and limits on the request line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, curl } from './lib/cluster.mjs';

let c;
before(async () => { c = await startCluster(); });
after(async () => { await c?.stop(); });

function assertProblem(r, status, code) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  const p = r.json();
  assert.equal(p.status, status);
  assert.equal(p.code, code);
  assert.equal(p.type, `urn:cohort:problem:${code}`);
  assert.equal(p.request_id, r.headers['x-request-id']);
  return p;
}

test('unknown routes are 404 no_route', async () => {
  for (const path of ['/api/v1/nope', '/api/v2/health', '/api/v1/health/', '/api/v1/healthz', '/api/v1',
    '/api/', '/api/v1/dev', '/api/v1/dev/events/1', '/api/v1/heal%74h', '/api/v1/HEALTH']) {
    assertProblem(await curl(`${c.url}${path}`), 404, 'no_route');
  }
});

test('a known path with another method is 405 with Allow', async () => {
  for (const [method, path, allow] of [
    ['POST', '/api/v1/health', 'GET, HEAD'],
    ['DELETE', '/api/v1/health', 'GET, HEAD'],
    ['PUT', '/api/v1/metrics', 'GET, HEAD'],
    ['GET', '/api/v1/dev/events', 'POST'],
    ['PATCH', '/api/v1/dev/events', 'POST'],
    ['OPTIONS', '/api/v1/health', 'GET, HEAD'],
  ]) {
    const r = await curl(`${c.url}${path}`, { method, body: method === 'GET' ? undefined : '' });
    const p = assertProblem(r, 405, 'method_not_allowed');
    assert.equal(r.headers.allow, allow, `${method} ${path}`);
    assert.ok(p.detail.includes(allow));
  }
});

test('HEAD is answered by GET routes', async () => {
  const r = await curl(`${c.url}/api/v1/metrics`, { args: ['-I'] });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain/);
  assert.ok(Number(r.headers['content-length']) > 100);
});

test('the query string does not take part in routing', async () => {
  const r = await curl(`${c.url}/api/v1/health?x=1&y=%zz`);
  assert.equal(r.status, 200);
});

test('an over-long path is refused with 413 limit_exceeded', async () => {
  const p = assertProblem(await curl(`${c.url}/api/v1/${'a'.repeat(2100)}`), 413, 'limit_exceeded');
  assert.ok(p.detail.includes('2048'));
  assertProblem(await curl(`${c.url}/api/v1/${'a'.repeat(1900)}`), 404, 'no_route');
});

test('a non-ASCII byte in the path is 400 invalid_request', async () => {
  // --request-target sends the bytes as they are (curl would percent-encode
  // them in a URL); nginx passes them on in REQUEST_URI.
  const r = await curl(`${c.url}/`, { args: ['--request-target', '/api/v1/h\u00e9alth'] });
  const p = assertProblem(r, 400, 'invalid_request');
  assert.ok(p.detail.includes('percent-encoded'));
  // Percent-encoded, it is simply no route.
  assertProblem(await curl(`${c.url}/api/v1/h%C3%A9alth`), 404, 'no_route');
});

test('a request id survives every error path', async () => {
  const rid = 'routing-rid-00000001';
  for (const [method, path] of [['GET', '/api/v1/nope'], ['DELETE', '/api/v1/health'], ['GET', '/api/v1/health']]) {
    const r = await curl(`${c.url}${path}`, { method, headers: { 'X-Request-Id': rid } });
    assert.equal(r.headers['x-request-id'], rid);
  }
});
