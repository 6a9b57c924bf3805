// cohort-bench fanout on a tiny scenario against a real cluster: every event
// appended to Redis reaches every subscriber through nginx, in order, once,
// and the JSON report says so with the fields docs/bench.md documents. Also:
// --idle against the streamer directly, the HTML report, and a run whose
// subscribers cannot connect must say so and exit non-zero.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, BIN_DIR } from './lib/cluster.mjs';

const BENCH = path.join(BIN_DIR, 'cohort-bench');

function bench(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    execFile(BENCH, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

test('fanout through nginx: delivered == expected, in order, no duplicates, full report', { timeout: 120000 }, async () => {
  const c = await startCluster({ api: false });
  try {
    const out = path.join(c.dir, 'fanout.json');
    // 100 events/s for 0.5 s warmup + 1.5 s measured = 200 events over 2
    // streams; each stream has 10 of the 20 subscribers.
    const r = await bench(['fanout', '--url', c.url, '--subscribers', '20', '--streams', '2',
      '--rate', '100', '--warmup', '0.5', '--duration', '1.5', '--settle', '0.5',
      '--redis', `127.0.0.1:${c.redisPort}`, '--stream-pid', String(c.pid('stream0')),
      '--name', 'smoke', '--out', out, '--target', 'lost==0', '--target', 'p99_ms<=100000']);
    assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
    const j = readJson(out);

    assert.equal(j.version, 1);
    assert.equal(j.name, 'smoke');
    assert.equal(j.mode, 'fanout');
    assert.equal(j.config.via, 'nginx', `Server header was ${j.config.server_header}`);
    assert.equal(j.config.subscribers, 20);
    assert.equal(j.config.streams, 2);
    assert.equal(j.connect.ok, 20);
    assert.equal(j.connect.failed, 0);

    assert.equal(j.events.published, 200);
    assert.equal(j.events.expected, 200 * 10);
    assert.equal(j.events.delivered, j.events.expected, JSON.stringify(j.events));
    assert.equal(j.events.lost, 0);
    assert.equal(j.events.published_measured, 150);
    assert.equal(j.events.delivered_measured, 150 * 10);
    assert.equal(j.events.per_connection_min, 100);
    assert.equal(j.events.per_connection_max, 100);
    for (const k of ['duplicates', 'out_of_order', 'gaps', 'wrong_stream', 'bad_ids', 'resets']) {
      assert.equal(j.events[k], 0, `${k}: ${JSON.stringify(j.events)}`);
    }
    assert.equal(j.errors.total, 0, JSON.stringify(j.errors));

    assert.equal(j.latency_ms.count, 1500);
    assert.ok(j.latency_ms.p50 > 0 && j.latency_ms.p50 <= j.latency_ms.p99, JSON.stringify(j.latency_ms));
    assert.ok(j.latency_ms.p99 <= j.latency_ms.p999 && j.latency_ms.p999 <= j.latency_ms.max);
    const samples = j.latency_histogram_us.reduce((n, b) => n + b[2], 0);
    assert.equal(samples, 1500);
    assert.ok(j.throughput.deliveries_per_s > 0 && j.throughput.window_s > 1);
    assert.ok(Array.isArray(j.timeline.deliveries_per_s) && j.timeline.deliveries_per_s.length > 0);

    assert.equal(j.streamer.pid, c.pid('stream0'));
    assert.ok(j.streamer.rss_before_kb > 0 && j.streamer.rss_connected_kb > 0);
    assert.ok('rss_per_conn_bytes' in j.streamer);
    assert.ok(j.cpu.stream && j.cpu.bench);

    assert.deepEqual(j.targets.map((t) => [t.expr, t.pass]), [['lost==0', true], ['p99_ms<=100000', true]]);
    assert.equal(j.pass, true);
  } finally {
    await c.stop();
  }
});

test('idle mode directly against the streamer, and the HTML report', { timeout: 120000 }, async () => {
  const c = await startCluster({ api: false });
  try {
    const out = path.join(c.dir, 'idle.json');
    const r = await bench(['fanout', '--idle', '--url', c.streamUrls[0], '--subscribers', '50',
      '--streams', '5', '--settle', '0.5', '--duration', '0.5', '--stream-pid', String(c.pid('stream0')),
      '--out', out, '--target', 'connected>=50']);
    assert.equal(r.code, 0, `cohort-bench failed:\n${r.stdout}\n${r.stderr}`);
    const j = readJson(out);
    assert.equal(j.mode, 'idle');
    assert.equal(j.config.via, 'direct');
    assert.equal(j.connect.ok, 50);
    assert.equal(j.errors.total, 0, JSON.stringify(j.errors));
    assert.ok(j.streamer.rss_connected_kb > 0);
    assert.equal(typeof j.streamer.rss_per_conn_bytes, 'number');
    assert.equal(j.events, undefined);
    assert.equal(j.pass, true);

    const html = path.join(c.dir, 'report.html');
    const h = await bench(['report', '--out', html, out]);
    assert.equal(h.code, 0, h.stderr);
    const text = readFileSync(html, 'utf8');
    assert.match(text, /^<!doctype html>/);
    assert.match(text, /connected&gt;=50/);
    assert.doesNotMatch(text, /<script|src=|href="http/);
  } finally {
    await c.stop();
  }
});

test('subscribers that get no event stream are reported and the run fails', { timeout: 120000 }, async () => {
  const c = await startCluster({ api: false });
  try {
    const out = path.join(c.dir, 'bad.json');
    // Under a path prefix nginx serves the front end's index, not /stream/.
    const r = await bench(['fanout', '--url', `${c.url}/nothing`, '--subscribers', '5', '--rate', '10',
      '--warmup', '0', '--duration', '0.5', '--settle', '0', '--redis', `127.0.0.1:${c.redisPort}`,
      '--out', out]);
    assert.equal(r.code, 1, `expected exit 1:\n${r.stdout}\n${r.stderr}`);
    const j = readJson(out);
    assert.equal(j.connect.ok, 0);
    assert.equal(j.connect.failed, 5);
    assert.ok(j.errors.total >= 5, JSON.stringify(j.errors));
    assert.equal(j.events.expected, 0);
  } finally {
    await c.stop();
  }
});
