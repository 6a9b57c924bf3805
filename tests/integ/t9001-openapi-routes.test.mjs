// docs/openapi.yaml against the code: every row of cohort-api's route table
// (`cohort-api --routes`) is documented with its method, path parameters,
// name (operationId) and permission; the document lists no /api/ operation
// the table lacks; the stream endpoints are the ones cohort-stream serves;
// the problem code list is err.h's; every $ref resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT, BIN_DIR } from './lib/cluster.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const STREAM_PATHS = ['/stream/events', '/stream/health', '/stream/metrics', '/stream/ws'];

const doc = YAML.parse(readFileSync(path.join(ROOT, 'docs/openapi.yaml'), 'utf8'));

function routeTable() {
  return new Promise((resolve, reject) => {
    execFile(path.join(BIN_DIR, 'cohort-api'), ['--routes'], (err, stdout) => {
      if (err) return reject(err);
      resolve(stdout.trim().split('\n').map((line) => {
        const [method, pattern, permission, name, ...rest] = line.split('\t');
        assert.equal(rest.length, 0, line);
        return { method, pattern, permission, name };
      }));
    });
  });
}

/** Every operation in the document: {path, method, op, item}. */
function operations() {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) if (item[m]) out.push({ path: p, method: m.toUpperCase(), op: item[m], item });
  }
  return out;
}

test('the document is OpenAPI 3 with paths', () => {
  assert.match(String(doc.openapi), /^3\.\d+\.\d+$/);
  assert.ok(doc.info?.title && doc.info?.version);
  assert.ok(Object.keys(doc.paths).length > 0);
});

test('every route of the table is documented, with its name and permission', async () => {
  const routes = await routeTable();
  assert.ok(routes.length >= 3);
  for (const r of routes) {
    const op = doc.paths[r.pattern]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.pattern} (route ${r.name}) is missing from docs/openapi.yaml`);
    assert.equal(op.operationId, r.name, `${r.method} ${r.pattern}: operationId`);
    assert.equal(op['x-cohort-permission'], r.permission, `${r.method} ${r.pattern}: x-cohort-permission`);
    assert.equal(op['x-cohort-served-by'], 'cohort-api', `${r.method} ${r.pattern}: x-cohort-served-by`);
    assert.ok(op.responses && Object.keys(op.responses).length, `${r.method} ${r.pattern}: responses`);
    // Path parameters: exactly the pattern's {names}, declared in the path.
    const want = [...r.pattern.matchAll(/\{([a-z_][a-z0-9_]*)\}/g)].map((x) => x[1]).sort();
    const params = [...(doc.paths[r.pattern].parameters || []), ...(op.parameters || [])]
      .map((p) => (p.$ref ? resolve(p.$ref) : p))
      .filter((p) => p.in === 'path');
    assert.deepEqual(params.map((p) => p.name).sort(), want, `${r.method} ${r.pattern}: path parameters`);
    for (const p of params) assert.equal(p.required, true, `${r.pattern}: path parameter ${p.name} must be required`);
  }
});

test('the document lists no /api/ operation the table lacks', async () => {
  const routes = await routeTable();
  const known = new Set(routes.map((r) => `${r.method} ${r.pattern}`));
  for (const { path: p, method } of operations()) {
    if (!p.startsWith('/api/')) continue;
    assert.ok(known.has(`${method} ${p}`), `docs/openapi.yaml lists ${method} ${p}, which is not in cohort-api's route table`);
  }
});

test('outside /api/ only the stream endpoints, marked as served by cohort-stream', () => {
  const others = Object.keys(doc.paths).filter((p) => !p.startsWith('/api/')).sort();
  assert.deepEqual(others, STREAM_PATHS);
  for (const { path: p, op } of operations()) {
    if (p.startsWith('/stream/')) assert.equal(op['x-cohort-served-by'], 'cohort-stream', p);
  }
});

test('operationIds are unique', () => {
  const ids = operations().map((o) => o.op.operationId);
  assert.ok(ids.every(Boolean), 'every operation has an operationId');
  assert.equal(new Set(ids).size, ids.length);
});

test('the problem code list is exactly the one in backend/core/err.h', () => {
  const errh = readFileSync(path.join(ROOT, 'backend/core/err.h'), 'utf8');
  const codes = [...errh.matchAll(/^\s*X\(\s*[A-Z0-9_]+\s*,\s*"([a-z0-9_]+)"\s*,\s*\d{3}/gm)].map((m) => m[1]);
  assert.ok(codes.length > 10, 'err.h rows found');
  assert.deepEqual([...doc.components.schemas.ProblemCode.enum].sort(), [...codes].sort());
  const problem = doc.components.schemas.Problem;
  for (const f of ['type', 'title', 'status', 'code']) assert.ok(problem.required.includes(f), f);
});

test('the event envelope is described', () => {
  const s = doc.components.schemas;
  for (const f of ['type', 'stream', 'project', 'actor', 'ts', 'data']) assert.ok(s.StoredEvent.properties[f], f);
  assert.deepEqual(s.StoredEvent.properties.ts.required, ['recv', 'pub']);
  assert.ok(s.Event.allOf.some((x) => x.properties?.id));
});

function resolve(ref) {
  assert.ok(ref.startsWith('#/'), `only local references: ${ref}`);
  let node = doc;
  for (const part of ref.slice(2).split('/')) {
    node = node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    assert.ok(node !== undefined, `unresolved $ref ${ref}`);
  }
  return node;
}

test('every $ref resolves', () => {
  let n = 0;
  (function walk(x) {
    if (Array.isArray(x)) return x.forEach(walk);
    if (x && typeof x === 'object') {
      if (typeof x.$ref === 'string') { resolve(x.$ref); n++; }
      Object.values(x).forEach(walk);
    }
  })(doc);
  assert.ok(n > 0);
});
