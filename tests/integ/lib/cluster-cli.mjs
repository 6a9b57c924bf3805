#!/usr/bin/env node
// A whole cohort on free 127.0.0.1 ports, for shell scripts (scripts/bench.sh):
// starts the test harness's cluster, prints one JSON line
//   {"url", "streamUrls", "redisPort", "dir", "pids": {"redis", "api", "stream0", ..., "nginx"},
//    "env": {COHORT_*: the settings the cohort CLI needs to act on this cluster}}
// on stdout, then keeps running until SIGTERM or SIGINT, when it stops every
// process by PID (cluster.stop) and exits 0, or 1 if a process did not stop
// cleanly (the reason goes to stderr).
//
// usage: node tests/integ/lib/cluster-cli.mjs [--streamers N] [--no-api] [--no-nginx]
//          [--hello-fcgi] [--env KEY=VALUE]... [--stream-env KEY=VALUE]... [--api-env KEY=VALUE]...
// --hello-fcgi also starts `cohort-bench hello-fcgi`, served by nginx at
// /bench/hello (pids.hello). Binaries come from $COHORT_BIN_DIR or
// build/$FLAVOR, as in the harness.

import { startCluster } from './cluster.mjs';

function usage(msg) {
  if (msg) process.stderr.write(`cluster-cli: ${msg}\n`);
  process.stderr.write('usage: cluster-cli.mjs [--streamers N] [--no-api] [--no-nginx] [--hello-fcgi] '
    + '[--env K=V]... [--stream-env K=V]... [--api-env K=V]...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { env: {}, streamEnv: {}, apiEnv: {} };
  const kv = (s, into) => {
    const i = s ? s.indexOf('=') : -1;
    if (i <= 0) usage(`expected KEY=VALUE, got '${s}'`);
    into[s.slice(0, i)] = s.slice(i + 1);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--streamers': {
        const n = Number(argv[++i]);
        if (!Number.isInteger(n) || n < 0 || n > 16) usage('--streamers must be 0..16');
        opts.streamers = n;
        break;
      }
      case '--no-api': opts.api = false; break;
      case '--no-nginx': opts.nginx = false; break;
      case '--hello-fcgi': opts.helloFcgi = true; break;
      case '--env': kv(argv[++i], opts.env); break;
      case '--stream-env': kv(argv[++i], opts.streamEnv); break;
      case '--api-env': kv(argv[++i], opts.apiEnv); break;
      case '--help': usage(); break;
      default: usage(`unknown argument '${a}'`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
let cluster;
try {
  cluster = await startCluster(opts);
} catch (e) {
  process.stderr.write(`cluster-cli: cannot start the cluster: ${e.message}\n`);
  process.exit(1);
}

const pids = {};
for (const name of cluster.procs.keys()) pids[name] = cluster.pid(name);
process.stdout.write(JSON.stringify({
  url: cluster.url,
  streamUrls: cluster.streamUrls,
  redisPort: cluster.redisPort,
  dir: cluster.dir,
  pids,
  env: Object.fromEntries(Object.entries(cluster.env()).filter(([k]) => k.startsWith('COHORT_'))),
}) + '\n');

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  clearInterval(keepAlive);
  try {
    await cluster.stop();
    process.exit(0);
  } catch (e) {
    process.stderr.write(`cluster-cli: stopped after ${signal}, but: ${e.message}\n`);
    process.exit(1);
  }
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// Nothing else keeps the event loop alive once the children are spawned.
const keepAlive = setInterval(() => {}, 1 << 30);
