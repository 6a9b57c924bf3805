// Convergence (issue 5, Tests): 8 reference clients (lib/collab-client.mjs)
// on one file through nginx, one on WebSocket (receiving and pushing over its
// socket) and seven on SSE (pushing over REST), random inserts/deletes/replaces (astral characters, CJK, newlines, overlapping
// ranges, several ranges per edit, positions on code point boundaries), random
// push and receive delays, reconnects with and without resume, and a few
// reloads. After quiescence: every client's text equals GET /doc, every sync
// proof passes, and the server's text equals the sequential application of its
// whole log to the text at version 1.
//
// Seeded: COHORT_SEED=<n> replays a run's choices (timing still varies);
// COHORT_COLLAB_OPS=<n> sets the edits per client. The seed is printed on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import {
  CollabClient, closeAll, LogRecorder, collabFixture, makeRng, seeded, runSeed, assertConverged, typeRandomly,
} from './lib/collab-client.mjs';

const SEED = runSeed();
const OPS = Number(process.env.COHORT_COLLAB_OPS ?? 450);
const CLIENTS = 8;
const INITIAL = 'first line\nsecond 😀 line\n中文 third\n\n𝒜𝄞 end';

let c, fx;

before(async () => {
  // The server should keep the whole log of this run, so that GET /doc/updates?since=1 is
  // replayed as it is; if it does not (t1415), the log recorded while it grew is replayed.
  // t1413 runs with the default collab.log_max.
  c = await startCluster({ streamers: 1, env: { COHORT_COLLAB_LOG_MAX: '100000' } });
  fx = await collabFixture(c, { writers: CLIENTS });
});
after(async () => {
  closeAll();
  await c?.stop();
});

test('8 clients converge under random edits, delays and reconnects', { timeout: 150000 }, async (t) => {
  t.diagnostic(`seed ${SEED}, ${OPS} edits per client`);
  await seeded(SEED, async () => {
    const path = 'src/converge.txt';
    await fx.createFile(path, INITIAL);
    const rec = new LogRecorder(c.url, fx.project, path, fx.writers[0].token, 1);
    const master = makeRng(SEED);
    const clients = [];
    for (let i = 0; i < CLIENTS; i++) {
      const rng = makeRng(Math.floor(master() * 2 ** 31));
      clients.push(new CollabClient({
        url: c.url, project: fx.project, path, token: fx.writers[i].token, name: `c${i}`, rng,
        transport: i === 0 ? 'ws' : 'sse',
        pushVia: i === 0 ? 'ws' : 'rest', // the WebSocket client pushes over its socket too
        auth: i % 3 === 2 ? 'query' : 'header',
        pushDelay: [0, Math.floor(rng() * 40)],
        recvDelay: [0, Math.floor(rng() * 25)],
      }));
    }
    await Promise.all(clients.map((cl) => cl.open()));

    const bad = [];
    const hot = { range: [0, 12] };
    const work = clients.map((cl, i) => typeRandomly(cl, makeRng(Math.floor(master() * 2 ** 31) + i), { ops: OPS, hot, bad }));
    const t0 = Date.now();
    await Promise.all(work);
    const editMs = Date.now() - t0;

    // Quiescence, then: texts, versions, sync proofs and the log.
    const { doc: d, stats } = await assertConverged(assert, {
      url: c.url, project: fx.project, path, token: fx.writers[0].token, clients, initial: INITIAL, recorder: rec,
      diagnostic: (m) => t.diagnostic(m),
    });
    const settleMs = Date.now() - t0 - editMs;
    t.diagnostic(`edits ${stats.edits}, server version ${d.version}, text ${d.text.length} units, edit phase ${editMs} ms, settle ${settleMs} ms`);
    t.diagnostic(`pushes ${stats.pushes} (updates ${stats.pushedUpdates}, accepted ${stats.accepted}, skipped ${stats.skipped}), retries ${stats.retries}, ` +
      `events ${stats.events}, pulls ${stats.pulls} (gap ${stats.gapPulls}, catch-up ${stats.catchupPulls}, updates ${stats.pulledUpdates}), ` +
      `reconnects ${stats.reconnects}, reloads ${stats.reloads} ${JSON.stringify(stats.reloadWhy)}, resets ${stats.resets}, WebSocket pushes ${stats.wsPushes}`);
    assert.deepEqual(bad, []);
    assert.ok(stats.edits >= CLIENTS * OPS * 0.9, `edits made: ${stats.edits}`);
    assert.ok(d.version > stats.edits / 2, `server version ${d.version} for ${stats.edits} edits`);
    // Every client got updates as events, not only by pulling.
    for (const cl of clients) assert.ok(cl.stats.events > 0, `${cl.name} received events`);
    for (const cl of clients) cl.close();
  });
});
