// Two cohort-api processes and two cohort-stream processes at once (issue 5,
// Tests): nginx spreads the REST calls over both APIs (round robin), the
// clients' event transports are spread over both streamers (directly and
// through nginx), and one API and one streamer are restarted while everyone
// types. The clients converge as in t1410: every text equals the server's,
// every sync proof passes, and the whole log replays to the server's text.
// Both APIs must have accepted pushes.
//
// COHORT_SEED=<n> replays a run's choices; the seed is printed on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, sleep } from './lib/cluster.mjs';
import {
  CollabClient, closeAll, LogRecorder, collabFixture, makeRng, seeded, runSeed, assertConverged, typeRandomly,
} from './lib/collab-client.mjs';

const SEED = runSeed();
const OPS = Number(process.env.COHORT_COLLAB_OPS ?? 300);
const CLIENTS = 8;
const INITIAL = 'two of each\n😀😀\n';

let c, fx;

before(async () => {
  c = await startCluster({ apis: 2, streamers: 2 });
  fx = await collabFixture(c, { writers: CLIENTS });
});
after(async () => {
  closeAll();
  await c?.stop();
});

const pushesIn = (name) => c.log(name).split('\n').filter((l) => l.includes('"route":"doc_push"') && l.includes('"status":200')).length;

test('clients spread over two APIs and two streamers converge, with restarts', { timeout: 150000 }, async (t) => {
  t.diagnostic(`seed ${SEED}, ${OPS} edits per client`);
  await seeded(SEED, async () => {
    const path = 'multi.txt';
    await fx.createFile(path, INITIAL);
    const rec = new LogRecorder(c.url, fx.project, path, fx.writers[0].token, 1);
    const master = makeRng(SEED);
    const clients = [];
    for (let i = 0; i < CLIENTS; i++) {
      const rng = makeRng(Math.floor(master() * 2 ** 31));
      // Streamer i % 2, directly for half of the clients, through nginx (its upstream of both) for the others.
      const streamUrl = i < 4 ? c.streamUrls[i % 2] : c.url;
      clients.push(new CollabClient({
        url: c.url, streamUrl, project: fx.project, path, token: fx.writers[i].token, name: `m${i}`, rng,
        transport: i % 4 === 1 ? 'ws' : 'sse',
        pushVia: i % 4 === 1 ? 'ws' : 'rest', // pushes run on the streamers' worker pools too
        pushDelay: [0, Math.floor(rng() * 30)],
        recvDelay: [0, Math.floor(rng() * 20)],
      }));
    }
    await Promise.all(clients.map((cl) => cl.open()));

    const bad = [];
    const hot = { range: [0, 12] };
    const t0 = Date.now();
    const work = clients.map((cl, i) => typeRandomly(cl, makeRng(Math.floor(master() * 2 ** 31) + i), { ops: OPS, hot, bad }));
    // Meanwhile: restart the second API and the second streamer.
    const edits = () => clients.reduce((n, cl) => n + cl.stats.edits, 0);
    const progress = async (share) => { while (edits() < CLIENTS * OPS * share) await sleep(50); };
    const chaos = (async () => {
      await progress(0.4);
      await c.kill('api1');
      await sleep(300);
      await c.startApi(1);
      await progress(0.6);
      await c.restartStreamer(1);
    })();
    await Promise.all([...work, chaos]);
    const editMs = Date.now() - t0;

    const { doc: d, stats } = await assertConverged(assert, {
      url: c.url, project: fx.project, path, token: fx.writers[0].token, clients, initial: INITIAL, recorder: rec,
      diagnostic: (m) => t.diagnostic(m),
    });
    const p0 = pushesIn('api'), p1 = pushesIn('api1');
    t.diagnostic(`edits ${stats.edits}, server version ${d.version}, edit phase ${editMs} ms; pushes answered 200 by api ${p0}, by api1 ${p1}`);
    t.diagnostic(`pushes ${stats.pushes} (updates ${stats.pushedUpdates}, accepted ${stats.accepted}, skipped ${stats.skipped}), retries ${stats.retries}, ` +
      `events ${stats.events}, pulls ${stats.pulls} (gap ${stats.gapPulls}, catch-up ${stats.catchupPulls}), reconnects ${stats.reconnects}, reloads ${stats.reloads} ${JSON.stringify(stats.reloadWhy)}`);
    assert.deepEqual(bad, []);
    assert.ok(stats.edits >= CLIENTS * OPS * 0.9, `edits made: ${stats.edits}`);
    assert.ok(p0 > 20 && p1 > 20, `both APIs accepted pushes (api ${p0}, api1 ${p1})`);
    for (const cl of clients) assert.ok(cl.stats.events > 0, `${cl.name} received events`);
    for (const cl of clients) cl.close();
  });
});
