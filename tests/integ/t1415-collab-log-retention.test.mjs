// collab.log_max applies to every way an update is accepted (docs/protocol.md
// section 9: `410 version_gone` only for versions older than the retained
// log, collab.log_max updates): REST pushes and WebSocket pushes alike. With a
// large log_max, 1,100 updates and then one more pushed over REST, or over the
// WebSocket `push` message, leave the whole log retrievable from version 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { CollabClient, closeAll, collabFixture, replay, serverLog } from './lib/collab-client.mjs';

let c, fx;

before(async () => {
  c = await startCluster({ streamers: 1, env: { COHORT_COLLAB_LOG_MAX: '5000' } });
  fx = await collabFixture(c, { writers: 1 });
});
after(async () => {
  closeAll();
  await c?.stop();
});

for (const via of ['rest', 'ws']) {
  test(`the whole log stays retrievable after a push over ${via}`, { timeout: 60000 }, async () => {
    const path = `retain-${via}.txt`;
    await fx.createFile(path, '');
    const token = fx.writers[0].token;
    const base = `${c.url}/api/v1/projects/${fx.project}/doc`;
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
    // 1,100 updates over REST, 100 per push: more than the default log_max of 1,000.
    let version = 1, len = 0;
    for (let p = 0; p < 11; p++) {
      const updates = [];
      for (let k = 0; k < 100; k++, len++) updates.push({ clientID: 'bulk', changes: len ? [len, [0, 'x']] : [[0, 'x']] });
      const r = await fetch(`${base}/updates?path=${path}`, { method: 'POST', headers, body: JSON.stringify({ version, updates }) });
      assert.equal(r.status, 200);
      version = (await r.json()).version;
    }
    assert.equal(version, 1101);
    assert.equal((await serverLog(c.url, fx.project, path, token, 1)).updates.length, 1100, 'before the last push');
    // One more, from a reference client pushing over REST or over its WebSocket.
    const cl = await new CollabClient({ url: c.url, project: fx.project, path, token, transport: via === 'ws' ? 'ws' : 'sse', pushVia: via }).open();
    cl.edit({ from: 0, insert: '!' });
    await cl.settle(1102);
    assert.deepEqual(cl.errors, []);
    assert.equal(cl.stats[via === 'ws' ? 'wsPushes' : 'pushes'], 1);
    let log;
    try {
      log = await serverLog(c.url, fx.project, path, token, 1);
    } catch (e) {
      assert.fail(`GET /doc/updates?since=1 after a push over ${via} with collab.log_max 5000: ${e.message}`);
    }
    assert.equal(log.updates.length, 1101);
    assert.equal(replay('', log.updates, 1).text, cl.text());
    cl.close();
  });
}
