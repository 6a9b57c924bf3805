// api.listen: TCP, a unix socket (directories created, mode 0660, a stale
// socket file replaced, a live one or a regular file refused, the file
// removed on exit), `inherit` (the socket on fd 0 from a process manager,
// here `cgi-fcgi -start`), and settings that cannot work. cohort-api is
// started by hand here and spoken to with FastCGI directly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { startCluster, freePort, waitFor, BIN_DIR } from './lib/cluster.mjs';
import { FcgiConn, fcgiOnce } from './t1000-api-fcgi-client.mjs';

const BIN = path.join(BIN_DIR, 'cohort-api');
const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];
let c;
before(async () => { c = await startCluster({ api: false, nginx: false, streamers: 0 }); });
after(async () => { await c?.stop(); });

/** Starts cohort-api as the cluster's 'api' (stopped and checked by c.stop()). */
function spawnApi(listen, name = 'api', env = {}) {
  return c.spawn(name, BIN, [], c.env({ COHORT_API_LISTEN: listen, ...env }));
}

async function health(target) {
  const r = await fcgiOnce(target, { uri: '/api/v1/health' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json().status, 'ok');
}

/** Runs cohort-api with a setting that must be refused; returns its log. */
async function refused(listen, name, env = {}) {
  const p = spawnApi(listen, name, env);
  const r = await Promise.race([p.exit, new Promise((res) => setTimeout(() => res(null), 10000).unref())]);
  assert.ok(r, `${listen}: cohort-api did not exit`);
  assert.equal(r.code, 1, `${listen}: exit code`);
  return c.log(name);
}

test('TCP on 127.0.0.1:<port>', async () => {
  const port = await freePort();
  spawnApi(`127.0.0.1:${port}`);
  const target = { host: '127.0.0.1', port };
  await waitFor(() => FcgiConn.connect(target).then((k) => { k.sock.destroy(); return true; }, () => false),
    { what: 'cohort-api on TCP' });
  await health(target);
  const k = await FcgiConn.connect(target);
  for (let i = 0; i < 3; i++) assert.equal((await k.request({ uri: '/api/v1/metrics' })).status, 200);
  await k.close();
  assert.equal((await c.kill('api')).code, 0);
});

test('unix socket: directories created, mode 0660, stale file replaced, live one refused, removed on exit', async () => {
  const sockPath = path.join(c.dir, 'run', 'deep', 'er', 'api.sock');
  const target = { path: sockPath };
  spawnApi(sockPath);
  await waitFor(() => existsSync(sockPath), { what: 'socket file' });
  await waitFor(() => fcgiOnce(target).then(() => true, () => false), { what: 'cohort-api on the socket' });
  const st = statSync(sockPath);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  await health(target);

  // A second instance on the same path must not steal it.
  const log = await refused(sockPath, 'api-dup');
  assert.match(log, /another process is listening/);
  await health(target);

  // Killed without cleanup, the first leaves a stale file behind; a new
  // instance replaces it.
  await c.kill('api', 'SIGKILL');
  assert.ok(existsSync(sockPath), 'stale socket file left behind');
  spawnApi(sockPath);
  await waitFor(() => fcgiOnce(target).then(() => true, () => false), { what: 'cohort-api after a stale socket' });
  await health(target);
  assert.equal((await c.kill('api')).code, 0);
  assert.ok(!existsSync(sockPath), 'socket file removed on exit');
});

test('a regular file where the socket should be is refused and left alone', async () => {
  const file = path.join(c.dir, 'not-a-socket');
  writeFileSync(file, 'keep me');
  const log = await refused(file, 'api-file');
  assert.match(log, /exists and is not a socket/);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
});

test('settings that cannot work are refused at start', async () => {
  const cases = [
    ['127.0.0.1:0', /port in 1\.\.65535/],
    ['127.0.0.1:99999', /port in 1\.\.65535/],
    ['127.0.0.1:', /port in 1\.\.65535/],
    ['unix:', /empty or longer/],
    [path.join(c.dir, 'x'.repeat(120), 'api.sock'), /empty or longer/],
    ['inherit', /descriptor 0 is not a listening socket/], // fd 0 is /dev/null here
  ];
  for (const [i, [listen, re]] of cases.entries()) {
    const log = await refused(listen, `api-bad${i}`);
    assert.match(log, re, listen);
    assert.match(log, /"event":"listen_failed"/);
  }
  // More threads than libfcgi's select()-based I/O can serve descriptors for.
  const log = await refused(path.join(c.dir, 'threads.sock'), 'api-threads', { COHORT_API_THREADS: '256' });
  assert.match(log, /"event":"too_many_threads","threads":256,"max":\d+/);
  assert.ok(!existsSync(path.join(c.dir, 'threads.sock')), 'socket file removed');
});

test('inherit: serves the socket a process manager passes on fd 0', async () => {
  const port = await freePort();
  const wrap = path.join(c.dir, 'wrap.sh');
  const pidFile = path.join(c.dir, 'inherit.pid');
  const logFile = path.join(c.dir, 'inherit.log');
  // cgi-fcgi -start closes the child's stdout and stderr; the wrapper keeps
  // a log and records the pid (exec keeps it) so the test can stop it.
  writeFileSync(wrap, `#!/bin/sh\necho $$ > "${pidFile}"\nexec "${BIN}" 2>>"${logFile}"\n`);
  chmodSync(wrap, 0o755);
  await new Promise((resolve, reject) => execFile('cgi-fcgi', ['-start', '-connect', `127.0.0.1:${port}`, wrap],
    { env: c.env({ COHORT_API_LISTEN: 'inherit' }), timeout: 10000 }, (err) => (err ? reject(err) : resolve())));
  const pid = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim(), { what: 'pid file' }));
  const gone = () => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] === 'Z';
  try {
    const target = { host: '127.0.0.1', port };
    await waitFor(() => fcgiOnce(target).then(() => true, () => false), { what: 'inherited socket served' });
    await health(target);
    const k = await FcgiConn.connect(target);
    const r = await k.request({ uri: '/api/v1/nope' });
    assert.equal(r.status, 404);
    await k.close();
  } finally {
    process.kill(pid, 'SIGTERM');
    await waitFor(gone, { timeout: 10000, what: 'inherited cohort-api to stop' });
  }
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /"event":"started","version":"[^"]+","listen":"inherit"/);
  assert.match(log, /"event":"stopped","status":0/);
  for (const m of SANITIZER_MARKS) assert.ok(!log.includes(m), m);
});
