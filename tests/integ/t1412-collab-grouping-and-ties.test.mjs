// Grouping and ties through real reference clients (issue 5, Tests).
//
// - `ab` -> `WX`: B deletes "ab", C then types "W", while A (not yet told of
//   either) replaces "b" by "X". The server rebases A's update over each
//   accepted one in turn and A applies the two it missed one at a time, so
//   every screen shows "WX" (mapping over their composition would give "XW";
//   the test shows that too, so it can tell the two apart).
// - Ties: many clients type at one position at once. Round after round,
//   every client types its own characters locally at the same spot and all
//   push at the same moment; then everyone types on freely at its cursor with
//   random delays. Every typed character appears exactly once, each client's
//   characters in the order it typed them, and every screen equals the server.
//
// COHORT_SEED=<n> replays a run's choices; the seed is printed on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet, Text } from '@codemirror/state';
import { startCluster, sleep } from './lib/cluster.mjs';
import { CollabClient, closeAll, collabFixture, makeRng, replay, serverDoc, serverLog, seeded, runSeed } from './lib/collab-client.mjs';

const SEED = runSeed();
let c, fx;

before(async () => {
  c = await startCluster({ streamers: 1 });
  fx = await collabFixture(c, { writers: 10 });
});
after(async () => {
  closeAll();
  await c?.stop();
});

const client = (i, path, extra = {}) => new CollabClient({
  url: c.url, project: fx.project, path, token: fx.writers[i].token, name: `u${i}`, ...extra,
});

for (const transport of ['sse', 'ws']) {
  test(`ab -> WX through clients (A receives over ${transport})`, { timeout: 30000 }, async () => {
    const path = `grouping-${transport}.txt`;
    await fx.createFile(path, 'ab');
    // A's received updates wait 150 ms before they are applied, so 2, 3 and 4 are
    // all queued together however they arrive (one WebSocket message, a pull):
    // a client that batched them would show "XW".
    const A = await client(0, path, { transport, autoPush: false, recvDelay: [150, 150] }).open();
    const B = await client(1, path).open();
    const C = await client(2, path, { transport: transport === 'sse' ? 'ws' : 'sse' }).open();
    // A goes offline (no events) and replaces "b" by "X" at version 1.
    A.disconnect();
    assert.ok(A.edit({ from: 1, to: 2, insert: 'X' }));
    assert.equal(A.text(), 'aX');
    // B deletes "ab" (version 2); C sees it and types "W" (version 3).
    B.edit({ from: 0, to: 2 });
    await B.settle(2);
    await C.settle(2);
    assert.equal(C.text(), '');
    C.edit({ from: 0, insert: 'W' });
    await C.settle(3);
    await B.settle(3);
    // A pushes its update based on version 1: the server rebases it over 2, then 3.
    assert.equal(A.version, 1);
    await A.flush();
    assert.deepEqual(A.errors, []);
    const d = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
    assert.deepEqual([d.version, d.text], [4, 'WX'], 'server text');
    // A comes back: it receives 2 and 3 (one receiveUpdates each), then its own 4.
    await A.connect();
    await A.settle(4);
    for (const x of [A, B, C]) {
      await x.settle(4);
      assert.equal(x.text(), 'WX', `${x.name} text`);
      assert.equal((await x.proveSync()).ok, true, `${x.name} sync proof`);
      assert.deepEqual(x.errors.map((e) => e.message), []);
    }
    // The log: A's update as the server stored it, rebased step by step.
    const log = await serverLog(c.url, fx.project, path, fx.writers[0].token, 1);
    assert.deepEqual(log.updates.map((u) => u.clientID), [B.clientID, C.clientID, A.clientID]);
    assert.equal(replay('ab', log.updates, 1).text, 'WX');
    // Mapping A's change over the composition of 2 and 3 instead would give "XW".
    const a = ChangeSet.fromJSON([1, [1, 'X']]);
    const [u2, u3] = log.updates.slice(0, 2).map((u) => ChangeSet.fromJSON(u.changes));
    const composed = u2.compose(u3);
    const wrong = composed.apply(Text.of(['ab'])).toString();
    assert.equal(a.map(composed).apply(Text.of([wrong])).toString(), 'XW');
    for (const x of [A, B, C]) x.close();
  });
}

test('ties: many clients typing at the same position at once', { timeout: 90000 }, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  await seeded(SEED, async () => {
    const N = 10, ROUNDS = 6, BURST = 3, FREE = 25;
    const path = 'ties.txt';
    await fx.createFile(path, '[]');
    const master = makeRng(SEED);
    const clients = [];
    for (let i = 0; i < N; i++) {
      const rng = makeRng(Math.floor(master() * 2 ** 31));
      clients.push(client(i, path, { rng, autoPush: false, transport: i % 4 === 0 ? 'ws' : 'sse', recvDelay: [0, 10] }));
    }
    await Promise.all(clients.map((cl) => cl.open()));
    // Each client's characters are its own: ASCII-free, half of them astral.
    const alphabet = (i) => Array.from({ length: ROUNDS * BURST + FREE }, (_, k) =>
      String.fromCodePoint(i % 2 ? 0x1f300 + i * 60 + k : 0x4e00 + i * 60 + k));
    const typed = clients.map(() => []);

    // Rounds of exact ties: all type at position 1 (inside "[]") at the same version, then push together.
    for (let r = 0; r < ROUNDS; r++) {
      const v = Math.max(...clients.map((cl) => cl.version));
      await Promise.all(clients.map((cl) => cl.settle(v)));
      for (const [i, cl] of clients.entries()) {
        cl.setCursor(1);
        for (let k = 0; k < BURST; k++) {
          const ch = alphabet(i)[r * BURST + k];
          assert.ok(cl.type(ch));
          typed[i].push(ch);
        }
      }
      await Promise.all(clients.map((cl) => cl.flush()));
      const d = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
      await Promise.all(clients.map((cl) => cl.settle(d.version)));
      for (const cl of clients) assert.equal(cl.text(), d.text, `round ${r}: ${cl.name} text`);
    }

    // Free typing at each one's cursor, which starts at the same spot for
    // everyone and is moved by remote edits as CodeMirror moves it.
    const start = clients[0].text().indexOf(']');
    for (const cl of clients) {
      cl.o.autoPush = true;
      cl.o.pushDelay = [0, 20];
      cl.setCursor(start);
    }
    await Promise.all(clients.map(async (cl, i) => {
      const rng = makeRng(Math.floor(master() * 2 ** 31) + i);
      for (let k = 0; k < FREE; k++) {
        await sleep(Math.floor(rng() * 15));
        const ch = alphabet(i)[ROUNDS * BURST + k];
        assert.ok(cl.type(ch));
        typed[i].push(ch);
      }
    }));
    await Promise.all(clients.map((cl) => cl.settle(0, 30000)));
    const d = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
    await Promise.all(clients.map((cl) => cl.settle(d.version, 30000)));

    const all = typed.flat();
    t.diagnostic(`${N} clients, ${all.length} characters typed, server version ${d.version}`);
    assert.equal(d.version - 1, all.length, 'one version per typed character');
    assert.equal(d.text[0], '[');
    assert.equal(d.text.at(-1), ']');
    const chars = [...d.text.slice(1, -1)];
    const counts = new Map();
    for (const ch of chars) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    assert.deepEqual([...counts].filter(([, n]) => n !== 1), [], 'characters that appear more than once');
    assert.deepEqual(all.filter((ch) => !counts.has(ch)), [], 'typed characters missing');
    assert.equal(chars.length, all.length);
    for (const [i, mine] of typed.entries()) {
      // Each client's characters in the order they were typed within each burst and in the free run.
      const seen = chars.filter((ch) => mine.includes(ch));
      const free = mine.slice(ROUNDS * BURST);
      assert.deepEqual(seen.filter((ch) => free.includes(ch)), free, `u${i}: free-typed characters in typing order`);
      for (let r = 0; r < ROUNDS; r++) {
        const burst = mine.slice(r * BURST, (r + 1) * BURST);
        assert.deepEqual(seen.filter((ch) => burst.includes(ch)), burst, `u${i}: round ${r} in typing order`);
      }
    }
    for (const cl of clients) {
      assert.deepEqual(cl.errors.map((e) => e.message), [], `${cl.name} errors`);
      assert.equal(cl.text(), d.text, `${cl.name} text equals the server's`);
      assert.equal((await cl.proveSync()).ok, true, `${cl.name} sync proof`);
    }
    const log = await serverLog(c.url, fx.project, path, fx.writers[0].token, 1);
    assert.equal(replay('[]', log.updates, 1).text, d.text);
    for (const cl of clients) cl.close();
  });
});
