// The integration-test harness: a whole cohort (Redis, cohort-api,
// cohort-stream instances and nginx in front) on free 127.0.0.1 ports in a
// temporary directory, stopped by PID. Every integration test starts its own.
//
// Binaries come from $COHORT_BIN_DIR, default build/$FLAVOR (release).
// nginx is configured from conf/nginx/*.in, the same templates `make run` uses.

import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FLAVOR = process.env.FLAVOR || 'release';
export const BIN_DIR = path.resolve(ROOT, process.env.COHORT_BIN_DIR || `build/${FLAVOR}`);

const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:', 'SUMMARY: UndefinedBehaviorSanitizer'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or the time is up (then throws). */
export async function waitFor(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** true when something accepts connections on the TCP port, or on the unix socket path. */
function canConnect(target) {
  return new Promise((resolve) => {
    const s = net.connect(typeof target === 'string' ? { path: target } : { port: target, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function run(cmd, args, { input, timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout, maxBuffer: 64 << 20, encoding: 'buffer' }, (err, stdout, stderr) => {
      if (err && err.code !== undefined && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * Runs the real curl binary. Returns {status, headers (lower-case keys), body (string), raw (Buffer), json()}.
 * opts: method, headers {name: value}, body (string|Buffer), timeout (s), args (extra curl args).
 */
export async function curl(url, opts = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cohort-curl-'));
  const hfile = path.join(dir, 'h');
  const bfile = path.join(dir, 'b');
  const args = ['-sS', '-g', '--max-time', String(opts.timeout ?? 20), '-D', hfile, '-o', bfile, '-H', 'Expect:'];
  if (opts.method) args.push('-X', opts.method);
  for (const [k, v] of Object.entries(opts.headers || {})) args.push('-H', `${k}: ${v}`);
  if (opts.body !== undefined) args.push('--data-binary', '@-');
  args.push(...(opts.args || []), url);
  try {
    const r = await run('curl', args, { input: opts.body, timeout: (opts.timeout ?? 20) * 1000 + 5000 });
    if (r.code !== 0) throw new Error(`curl ${url} failed (${r.code}): ${r.stderr.toString()}`);
    const blocks = readFileSync(hfile, 'latin1').split(/\r\n\r\n/).filter((b) => b.trim());
    const lines = blocks[blocks.length - 1].split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const raw = readFileSync(bfile);
    const body = raw.toString('utf8');
    return { status, headers, body, raw, json: () => JSON.parse(body) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

class Proc {
  constructor(name, cmd, args, env, logPath) {
    this.name = name;
    this.logPath = logPath;
    this.expectedDeath = false;
    const fd = openSync(logPath, 'a');
    this.child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd], detached: false });
    closeSync(fd);
    this.pid = this.child.pid;
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', (err) => resolve({ code: -1, signal: null, err }));
    });
    this.exited = null;
    this.exit.then((e) => { this.exited = e; });
  }

  async stop(signal = 'SIGTERM', timeout = 15000) {
    if (this.exited) return this.exited;
    try { process.kill(this.pid, signal); } catch { /* already gone */ }
    let timer;
    const t = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeout); });
    const r = await Promise.race([this.exit, t]);
    clearTimeout(timer);
    if (r) return r;
    try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    const e = await this.exit;
    return { ...e, timedOut: true };
  }
}

export class Cluster {
  constructor(opts) {
    this.opts = opts;
    this.dir = mkdtempSync(path.join(tmpdir(), 'cohort-test-'));
    this.procs = new Map();
    this.problems = [];
    this.streamUrls = [];
    this.streamPorts = [];
    this.apiSocks = [];
  }

  env(extra = {}) {
    const san = {
      ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=66',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
      LSAN_OPTIONS: `suppressions=${path.join(ROOT, 'tests/lsan.supp')}:print_suppressions=0`,
    };
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME || this.dir,
      ...san,
      COHORT_REDIS_HOST: '127.0.0.1',
      COHORT_REDIS_PORT: String(this.redisPort),
      COHORT_API_LISTEN: this.apiSock,
      COHORT_DB_PATH: path.join(this.dir, 'cohort.db'),
      COHORT_DB_MIGRATIONS: path.join(ROOT, 'sql/sqlite'),
      COHORT_AUTH_SECRET_FILE: path.join(this.dir, 'jwt.secret'),
      COHORT_STREAM_HOST: '127.0.0.1',
      COHORT_API_DEV_EVENTS: 'true',
      COHORT_VAR_DIR: this.dir,
      COHORT_LOG_LEVEL: 'debug',
      ...(this.opts.env || {}),
      ...extra,
    };
  }

  spawn(name, cmd, args, env) {
    const p = new Proc(name, cmd, args, env, path.join(this.dir, `${name}.log`));
    this.procs.set(name, p);
    return p;
  }

  pid(name) {
    return this.procs.get(name)?.pid;
  }

  log(name) {
    const p = this.procs.get(name);
    return p && existsSync(p.logPath) ? readFileSync(p.logPath, 'utf8') : '';
  }

  async redis(...args) {
    const r = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), '--no-raw', ...args.map(String)]);
    if (r.code !== 0) throw new Error(`redis-cli ${args[0]}: ${r.stderr}`);
    return r.stdout.toString().trim();
  }

  /** Like redis() but with --raw output, handy for single values. */
  async redisRaw(...args) {
    const r = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), '--raw', ...args.map(String)]);
    if (r.code !== 0) throw new Error(`redis-cli ${args[0]}: ${r.stderr}`);
    return r.stdout.toString().replace(/\n$/, '');
  }

  async startRedis() {
    const conf = path.join(this.dir, 'redis.conf');
    writeFileSync(conf, [
      `port ${this.redisPort}`, 'bind 127.0.0.1', `dir ${this.dir}`, 'appendonly yes',
      'appendfsync always', 'save ""', 'daemonize no', 'protected-mode no', 'loglevel warning',
      'logfile ""', 'databases 1',
    ].join('\n') + '\n');
    this.spawn('redis', 'redis-server', [conf], this.env());
    await waitFor(async () => (await run('redis-cli', ['-p', String(this.redisPort), 'PING'])).stdout.toString().includes('PONG'),
      { timeout: 10000, what: 'redis' });
  }

  async stopRedis() {
    const p = this.procs.get('redis');
    p.expectedDeath = true;
    await p.stop('SIGTERM');
  }

  async restartRedis() {
    await this.stopRedis();
    await this.startRedis();
  }

  /** Runs the cohort CLI with the cluster's environment; returns {code, stdout, stderr} as strings. */
  async cli(...args) {
    const r = await new Promise((resolve) => {
      execFile(path.join(BIN_DIR, 'cohort'), args.map(String), { env: this.env(), timeout: 60000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    return r;
  }

  /** Like cli() but throws unless it succeeds, and parses its JSON output. */
  async cliJson(...args) {
    const r = await this.cli(...args);
    if (r.code !== 0) throw new Error(`cohort ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  async prepareDatabase() {
    for (const cmd of ['migrate', 'init-secret']) {
      const r = await this.cli(cmd);
      if (r.code !== 0) throw new Error(`cohort ${cmd} failed: ${r.stderr}`);
    }
  }

  /** cohort-api number i (opts.apis, default 1): 'api' on apiSock, then 'api1' on api1.sock, ... */
  async startApi(i = 0) {
    const name = i ? `api${i}` : 'api';
    const sock = i ? path.join(this.dir, `${name}.sock`) : this.apiSock;
    this.apiSocks[i] = sock;
    rmSync(sock, { force: true });
    const p = this.spawn(name, path.join(BIN_DIR, 'cohort-api'), [], this.env(i ? { ...this.opts.apiEnv, COHORT_API_LISTEN: sock } : this.opts.apiEnv));
    // The socket file appears at bind(), before listen(): wait for a connection to be accepted.
    await waitFor(async () => (p.exited ? Promise.reject(new Error(`cohort-api exited: ${this.log(name)}`)) : canConnect(sock)),
      { timeout: 15000, what: `${name} socket` });
  }

  async startStreamer(i) {
    const port = this.streamPorts[i] ?? await freePort();
    this.streamPorts[i] = port;
    this.streamUrls[i] = `http://127.0.0.1:${port}`;
    const p = this.spawn(`stream${i}`, path.join(BIN_DIR, 'cohort-stream'), [],
      this.env({ COHORT_STREAM_PORT: String(port), ...(this.opts.streamEnv || {}) }));
    await waitFor(async () => (p.exited ? Promise.reject(new Error(`cohort-stream exited: ${this.log(`stream${i}`)}`)) : canConnect(port)),
      { timeout: 15000, what: `cohort-stream ${i}` });
  }

  /** Stops one process by PID with a signal; a death the test caused is not a failure. */
  async kill(name, signal = 'SIGTERM') {
    const p = this.procs.get(name);
    p.expectedDeath = signal !== 'SIGTERM';
    const r = await p.stop(signal);
    if (signal === 'SIGTERM') this.check(p, r);
    return r;
  }

  async restartStreamer(i) {
    await this.kill(`stream${i}`);
    await this.startStreamer(i);
  }

  async startNginx() {
    const prefix = path.join(this.dir, 'nginx');
    mkdirSync(prefix, { recursive: true });
    const fill = (text) => text
      .replaceAll('@PREFIX@', prefix)
      .replaceAll('@LISTEN@', `127.0.0.1:${this.port}`)
      .replaceAll('@ROOT@', path.join(ROOT, 'frontend/dist'))
      .replaceAll('@DOCS@', path.join(ROOT, 'docs'))
      // Every cohort-api in nginx's upstream (opts.apis > 1: round robin over them).
      .replaceAll('@API@', (this.apiSocks.length ? this.apiSocks : [this.apiSock]).map((s) => `unix:${s}`).join('; server '))
      .replaceAll('@USER@', process.getuid && process.getuid() === 0 ? 'user root;' : '')
      .replaceAll('@STREAM_SERVERS@', this.streamPorts.length
        ? this.streamPorts.map((p) => `server 127.0.0.1:${p};`).join('\n    ')
        : 'server 127.0.0.1:9 down; # no streamer in this cluster')
      .replaceAll('@SERVER_CONF@', path.join(prefix, 'cohort.server.conf'));
    let serverConf = fill(readFileSync(path.join(ROOT, 'conf/nginx/cohort.server.conf.in'), 'utf8'));
    if (this.helloSock) serverConf = withHelloLocation(serverConf, this.helloSock);
    writeFileSync(path.join(prefix, 'cohort.server.conf'), serverConf);
    writeFileSync(path.join(prefix, 'nginx.conf'), fill(readFileSync(path.join(ROOT, 'conf/nginx/nginx.conf.in'), 'utf8')));
    const p = this.spawn('nginx', 'nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'nginx-error.log')], this.env());
    await waitFor(async () => (p.exited ? Promise.reject(new Error(`nginx exited: ${this.log('nginx')}`)) : canConnect(this.port)),
      { timeout: 10000, what: 'nginx' });
  }

  /**
   * The benchmark's trivial FastCGI responder (`cohort-bench hello-fcgi`) on
   * a unix socket; startNginx then serves it at /bench/hello (see
   * withHelloLocation). Only with opts.helloFcgi.
   */
  async startHello() {
    this.helloSock = path.join(this.dir, 'hello.sock');
    rmSync(this.helloSock, { force: true });
    const p = this.spawn('hello', path.join(BIN_DIR, 'cohort-bench'), ['hello-fcgi', '--listen', this.helloSock], this.env());
    await waitFor(async () => (p.exited ? Promise.reject(new Error(`hello-fcgi exited: ${this.log('hello')}`)) : canConnect(this.helloSock)),
      { timeout: 10000, what: 'hello-fcgi socket' });
  }

  check(p, r) {
    const log = this.log(p.name);
    const marks = SANITIZER_MARKS.filter((m) => log.includes(m));
    if (marks.length) this.problems.push(`${p.name}: sanitizer report (${marks.join(', ')}), see ${p.logPath}`);
    if (!p.expectedDeath && r && (r.code !== 0 || r.timedOut)) {
      this.problems.push(`${p.name} (pid ${p.pid}) ended with code ${r.code} signal ${r.signal}${r.timedOut ? ' after a stop timeout' : ''}`);
    }
  }

  async stop() {
    const streamers = [...this.procs.keys()].filter((n) => n.startsWith('stream'));
    const apis = [...this.procs.keys()].filter((n) => /^api\d+$/.test(n));
    for (const name of ['nginx', ...streamers, 'api', ...apis, 'hello', 'redis']) {
      const p = this.procs.get(name);
      if (p) this.check(p, await p.stop('SIGTERM'));
    }
    if (this.problems.length) {
      const msg = this.problems.join('\n');
      this.problems = [];
      throw new Error(`cluster did not stop cleanly (logs kept in ${this.dir}):\n${msg}`);
    }
    if (!process.env.COHORT_KEEP_TMP) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The rendered server config plus `location = /bench/hello` on an upstream
 * for the hello responder at sock: both copied from the /api/ location and
 * the cohort_api upstream, so the benchmark's baseline goes through exactly
 * the FastCGI settings cohort's own requests do. Benchmark clusters only; the
 * production template is not touched.
 */
export function withHelloLocation(conf, sock) {
  const up = conf.match(/upstream cohort_api \{[^}]*\}\n/);
  const loc = conf.match(/\n( *)location \/api\/ \{\n[\s\S]*?\n\1\}\n/);
  if (!up || !loc || !loc[0].includes('fastcgi_pass cohort_api;')) {
    throw new Error('withHelloLocation: cohort.server.conf.in has no upstream cohort_api / location /api/ to copy');
  }
  const upstream = up[0].replace('upstream cohort_api', 'upstream cohort_bench_hello')
    .replace(/server [^;]*;/, `server unix:${sock};`);
  const location = loc[0].replace('location /api/ {', 'location = /bench/hello {')
    .replace('fastcgi_pass cohort_api;', 'fastcgi_pass cohort_bench_hello;');
  return conf.replace(up[0], () => up[0] + '\n' + upstream).replace(loc[0], () => location + loc[0]);
}

/**
 * Starts Redis, opts.apis (default 1) cohort-api, opts.streamers (default 1) cohort-stream
 * instances and nginx. opts.env applies to every cohort process; apiEnv and
 * streamEnv to one kind. opts.api / opts.nginx false skip those.
 * opts.helloFcgi also starts the benchmark's hello responder (startHello).
 */
export async function startCluster(opts = {}) {
  const c = new Cluster(opts);
  try {
    c.redisPort = await freePort();
    c.port = await freePort();
    c.url = `http://127.0.0.1:${c.port}`;
    c.apiSock = path.join(c.dir, 'api.sock');
    await c.startRedis();
    await c.prepareDatabase();
    if (opts.api !== false) for (let i = 0; i < (opts.apis ?? 1); i++) await c.startApi(i);
    for (let i = 0; i < (opts.streamers ?? 1); i++) await c.startStreamer(i);
    if (opts.helloFcgi) await c.startHello();
    if (opts.nginx !== false) await c.startNginx();
  } catch (e) {
    await c.stop().catch(() => {});
    throw e;
  }
  return c;
}
