// Gaps in the event stream (issue 5, Tests): with a tiny events.maxlen the
// project stream is trimmed while a client is away, so resuming gives it a
// `reset` (docs/protocol.md section 5) and its next update event jumps past
// its synced version. The reference client fills the gap with
// GET .../doc/updates?since=<synced> and applies the missed updates one at a
// time; its unconfirmed edits made while away are rebased and pushed, and
// everyone ends with the server's text. Over SSE and over WebSocket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, sleep } from './lib/cluster.mjs';
import { CollabClient, closeAll, collabFixture, makeRng, randomChange, replay, serverDoc, serverLog, seeded, runSeed } from './lib/collab-client.mjs';

const SEED = runSeed();
let c, fx;

before(async () => {
  c = await startCluster({ streamers: 1, env: { COHORT_EVENTS_MAXLEN: '10' } });
  fx = await collabFixture(c, { writers: 3 });
});
after(async () => {
  closeAll();
  await c?.stop();
});

for (const transport of ['sse', 'ws']) {
  test(`a client away while the stream is trimmed catches up (${transport})`, { timeout: 60000 }, async (t) => {
    t.diagnostic(`seed ${SEED}`);
    await seeded(SEED, async () => {
      const path = `reset-${transport}.txt`;
      await fx.createFile(path, 'base 😀\n');
      const rng = makeRng(SEED);
      const mk = (i, extra) => new CollabClient({ url: c.url, project: fx.project, path, token: fx.writers[i].token, name: `r${i}`, rng: makeRng(SEED + i), ...extra });
      const away = await mk(0, { transport, pushVia: transport === 'ws' ? 'ws' : 'rest' }).open();
      const b = await mk(1, { transport: 'sse' }).open();
      const w = await mk(2, { transport: 'ws', pushVia: 'ws' }).open();
      // One event so that the away client has a real position to resume from.
      b.edit({ from: 0, insert: 'x' });
      await away.settle(2);
      assert.ok(transport === 'ws' ? away.wsPos : away.lastEventId, 'a resume position');

      away.disconnect();
      // The others type a lot; the away client types too, unconfirmed (no events, pushes go through
      // and are confirmed by the pull after the gap).
      for (let k = 0; k < 120; k++) {
        const cl = [b, w][k % 2];
        cl.edit(randomChange(rng, cl.text(), { maxLen: 400 }));
        if (k % 10 === 0) away.edit(randomChange(rng, away.text(), { maxLen: 400 }));
        await sleep(rng() < 0.5 ? 0 : 3);
      }
      await Promise.all([b.settle(0), w.settle(0)]);
      const xlen = Number(await c.redisRaw('XLEN', `{p:${fx.project}}:events`));
      assert.ok(xlen < 120, `the stream was trimmed (XLEN ${xlen})`);

      await away.connect({ resume: true });
      const d0 = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
      // A new event after the reconnect: its version jumps past what the client has unless it pulled.
      b.edit({ from: 0, insert: '!' });
      await Promise.all([away, b, w].map((cl) => cl.settle(d0.version + 1)));
      const d = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
      await Promise.all([away, b, w].map((cl) => cl.settle(d.version)));
      t.diagnostic(`version ${d.version}; away client: resets ${away.stats.resets}, pulls ${away.stats.pulls}, pulled updates ${away.stats.pulledUpdates}, gap pulls ${away.stats.gapPulls}`);
      assert.ok(away.stats.resets >= 1, 'the resumed connection got a reset');
      assert.ok(away.stats.pulledUpdates > 50, 'the missed updates came by pull');
      for (const cl of [away, b, w]) {
        assert.deepEqual(cl.errors.map((e) => e.message), [], `${cl.name} errors`);
        assert.equal(cl.stats.reloads, 0, `${cl.name} reloads`);
        assert.equal(cl.text(), d.text, `${cl.name} text`);
        assert.equal((await cl.proveSync()).ok, true, `${cl.name} sync proof`);
      }
      const log = await serverLog(c.url, fx.project, path, fx.writers[0].token, 1);
      assert.equal(replay('base 😀\n', log.updates, 1).text, d.text);
      for (const cl of [away, b, w]) cl.close();
    });
  });
}
