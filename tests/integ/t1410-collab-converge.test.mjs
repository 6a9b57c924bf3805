// Convergence (issue 5, Tests): 8 reference clients (lib/collab-client.mjs)
// on one file through nginx, one on WebSocket and seven on SSE, random
// inserts/deletes/replaces (astral characters, CJK, newlines, overlapping
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
import { startCluster, sleep } from './lib/cluster.mjs';
import {
  CollabClient, closeAll, LogRecorder, collabFixture, makeRng, randomChange, replay, serverDoc, serverLog, changesOnBoundaries, seeded,
} from './lib/collab-client.mjs';

const SEED = Number(process.env.COHORT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPS = Number(process.env.COHORT_COLLAB_OPS ?? 450);
const CLIENTS = 8;
const INITIAL = 'first line\nsecond 😀 line\n中文 third\n\n𝒜𝄞 end';

let c, fx;

before(async () => {
  c = await startCluster({ streamers: 1 });
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
        auth: i % 3 === 2 ? 'query' : 'header',
        pushDelay: [0, Math.floor(rng() * 40)],
        recvDelay: [0, Math.floor(rng() * 25)],
      }));
    }
    await Promise.all(clients.map((cl) => cl.open()));

    const bad = [];
    let hot = [0, 12];
    const work = clients.map(async (cl, i) => {
      const rng = makeRng(Math.floor(master() * 2 ** 31) + i);
      for (let k = 0; k < OPS; k++) {
        await sleep(Math.floor(rng() * 7));
        const r = rng();
        if (r < 0.006) {
          await cl.reconnect({ resume: rng() < 0.7, pause: Math.floor(rng() * 300) });
        } else if (r < 0.008) {
          await cl.reload('test: a new editor session');
        }
        if (rng() < 0.01) {
          const at = Math.floor(rng() * 60);
          hot = [at, at + 12];
        }
        const text = cl.text();
        const spec = randomChange(rng, text, { maxLen: 2500, hot });
        const cs = cl.state?.changes(spec);
        if (cs && !changesOnBoundaries(text, cs)) bad.push(`${cl.name}: generated a change inside a surrogate pair`);
        cl.edit(spec);
      }
    });
    const t0 = Date.now();
    await Promise.all(work);
    const editMs = Date.now() - t0;

    // Quiescence: everything pushed and confirmed, then everyone at the server's version.
    for (const cl of clients) if (!cl.connected && !cl.es && !cl.ws) await cl.connect();
    await Promise.all(clients.map((cl) => cl.settle(0, 30000)));
    const d = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
    await Promise.all(clients.map((cl) => cl.settle(d.version, 30000)));
    const settleMs = Date.now() - t0 - editMs;

    const edits = clients.reduce((n, cl) => n + cl.stats.edits, 0);
    const sum = (k) => clients.reduce((n, cl) => n + cl.stats[k], 0);
    t.diagnostic(`edits ${edits}, server version ${d.version}, text ${d.text.length} units, edit phase ${editMs} ms, settle ${settleMs} ms`);
    t.diagnostic(`pushes ${sum('pushes')} (updates ${sum('pushedUpdates')}, accepted ${sum('accepted')}, skipped ${sum('skipped')}), retries ${sum('retries')}, ` +
      `events ${sum('events')}, pulls ${sum('pulls')} (gap ${sum('gapPulls')}, catch-up ${sum('catchupPulls')}, updates ${sum('pulledUpdates')}), ` +
      `reconnects ${sum('reconnects')}, reloads ${sum('reloads')}, resets ${sum('resets')}`);

    assert.deepEqual(bad, []);
    for (const cl of clients) assert.deepEqual(cl.errors.map((e) => e.message), [], `${cl.name} errors`);
    assert.ok(edits >= CLIENTS * OPS * 0.9, `edits made: ${edits}`);
    assert.ok(d.version > edits / 2, `server version ${d.version} for ${edits} edits`);
    for (const cl of clients) {
      assert.equal(cl.version, d.version, `${cl.name} version`);
      assert.equal(cl.text(), d.text, `${cl.name} text equals the server's`);
      const proof = await cl.proveSync();
      assert.equal(proof.ok, true, `${cl.name} sync proof ${JSON.stringify(proof)}`);
    }
    // Each SSE/WS client got most updates as events, not by pulling.
    for (const cl of clients) assert.ok(cl.stats.events > 0, `${cl.name} received events`);

    // The server's text is its log applied in order to the text at version 1.
    const log = await rec.stop();
    assert.equal(log.length, d.version - 1);
    assert.equal(replay(INITIAL, log, 1).text, d.text, 'whole log (recorded while it grew) replays to the server text');
    let direct;
    try {
      direct = await serverLog(c.url, fx.project, path, fx.writers[0].token, 1);
    } catch (e) {
      if (e.status !== 410) throw e;
    }
    if (direct) {
      assert.deepEqual(direct.updates, log, 'GET /doc/updates?since=1 equals the recorded log');
      assert.equal(replay(INITIAL, direct.updates, 1).text, d.text);
    } else {
      // The log retains the newest updates only: the retained tail equals the recording.
      const first = log.length > 1000 ? d.version - 1000 : 1;
      const tail = await serverLog(c.url, fx.project, path, fx.writers[0].token, first);
      assert.deepEqual(tail.updates, log.slice(first - 1));
      t.diagnostic(`GET updates?since=1 is 410 (log retains the newest ${tail.updates.length}); checked the recording instead`);
    }
    for (const cl of clients) cl.close();
  });
});
