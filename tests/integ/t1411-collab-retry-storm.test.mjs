// Retry storm (issue 5, Tests): answers dropped after acceptance, the same
// push sent twice in parallel (over REST, and over WebSocket for the two
// WebSocket clients), requests aborted right after sending, clients that push
// again without waiting for their echo, and a replayer that sends captured
// pushes again later (stale re-pushes). Each client types unique tokens; in
// the end every token appears exactly once, on every screen and on the
// server, and the server skipped the re-pushed updates instead of applying
// them twice.
//
// COHORT_SEED=<n> replays a run's choices; the seed is printed on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, sleep } from './lib/cluster.mjs';
import { CollabClient, closeAll, collabFixture, makeRng, replay, serverDoc, serverLog, seeded, runSeed } from './lib/collab-client.mjs';

const SEED = runSeed();
const CLIENTS = 6;
const TOKENS = Number(process.env.COHORT_COLLAB_TOKENS ?? 110);

let c, fx;

before(async () => {
  c = await startCluster({ streamers: 1 });
  fx = await collabFixture(c, { writers: CLIENTS });
});
after(async () => {
  closeAll();
  await c?.stop();
});

/** Positions between tokens (every token ends with '>'), so tokens never split. */
function tokenGaps(text) {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '>') out.push(i + 1);
  return out;
}

const TOKEN_RE = /<c\d+:\d+[^<>]*>/gu;

test('dropped answers, duplicate and stale re-pushes never duplicate text', { timeout: 120000 }, async (t) => {
  t.diagnostic(`seed ${SEED}, ${TOKENS} tokens per client`);
  await seeded(SEED, async () => {
    const path = 'storm.txt';
    await fx.createFile(path, '');
    const master = makeRng(SEED);
    const captured = [];
    const capRng = makeRng(SEED ^ 0xcafe);
    const clients = [];
    for (let i = 0; i < CLIENTS; i++) {
      const rng = makeRng(Math.floor(master() * 2 ** 31));
      clients.push(new CollabClient({
        url: c.url, project: fx.project, path, token: fx.writers[i].token, name: `s${i}`, rng,
        transport: i % 3 === 0 ? 'ws' : 'sse',
        pushVia: i % 3 === 0 ? 'ws' : 'rest',
        eager: i % 2 === 0,           // re-push while the echo is on its way
        dropRate: 0.5,                 // "lost" answers: the same push again at once
        dupRate: 0.25,                 // the same push twice in parallel
        abortRate: i === 1 ? 0.1 : 0,  // a request cut a few ms after it was sent
        pushDelay: [0, 15],
        recvDelay: [0, 10],
        onPush: (body) => { if (capRng() < 0.2) captured.push(body); },
      }));
    }
    await Promise.all(clients.map((cl) => cl.open()));

    // A replayer: sends captured pushes again, later, as they were.
    let replaying = true;
    const replays = { sent: 0, accepted: 0, skipped: 0, gone: 0 };
    const pushRaw = async (body) => {
      const r = await fetch(`${c.url}/api/v1/projects/${fx.project}/doc/updates?path=${path}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${fx.writers[0].token}` }, body: JSON.stringify(body),
      });
      const j = await r.json();
      if (r.status === 410) { replays.gone++; return null; }
      assert.equal(r.status, 200, `replayed push: ${JSON.stringify(j)}`);
      return j;
    };
    const replayer = (async () => {
      const rng = makeRng(SEED ^ 0x5eed);
      while (replaying) {
        await sleep(5 + Math.floor(rng() * 20));
        if (!captured.length) continue;
        const body = captured[Math.floor(rng() * captured.length)];
        replays.sent++;
        const j = await pushRaw(body);
        if (j) { replays.accepted += j.accepted; replays.skipped += j.skipped; }
      }
    })();

    const typed = [];
    await Promise.all(clients.map(async (cl, i) => {
      const rng = makeRng(Math.floor(master() * 2 ** 31) + i);
      for (let k = 0; k < TOKENS; k++) {
        await sleep(Math.floor(rng() * 8));
        const tok = `<c${i}:${k}${rng() < 0.3 ? '😀' : rng() < 0.5 ? '中' : ''}${rng() < 0.2 ? '\n' : ''}>`;
        const gaps = tokenGaps(cl.text());
        const at = gaps[Math.floor(rng() * gaps.length)];
        if (!cl.edit({ from: at, insert: tok })) throw new Error(`${cl.name} could not type (reloading?)`);
        typed.push(tok);
      }
    }));
    replaying = false;
    await replayer;

    await Promise.all(clients.map((cl) => cl.settle(0, 30000)));
    const d = await serverDoc(c.url, fx.project, path, fx.writers[0].token);
    await Promise.all(clients.map((cl) => cl.settle(d.version, 30000)));

    const sum = (k) => clients.reduce((n, cl) => n + cl.stats[k], 0);
    t.diagnostic(`tokens ${typed.length}, server version ${d.version}, pushes ${sum('pushes')} (updates ${sum('pushedUpdates')}, ` +
      `accepted ${sum('accepted')}, skipped ${sum('skipped')}), dropped answers ${sum('dropped')}, parallel duplicates ${sum('dups')}, ` +
      `aborted ${sum('aborted')}, retries ${sum('retries')}; replayer sent ${replays.sent} (accepted ${replays.accepted}, skipped ${replays.skipped}, 410 ${replays.gone})`);

    for (const cl of clients) assert.deepEqual(cl.errors.map((e) => e.message), [], `${cl.name} errors`);
    for (const cl of clients) assert.equal(cl.stats.reloads, 0, `${cl.name} reloaded (${cl.lastReload}): it would lose tokens`);
    // The storm happened.
    assert.ok(sum('dropped') > 30, `dropped answers: ${sum('dropped')}`);
    assert.ok(sum('dups') > 5, `parallel duplicates: ${sum('dups')}`);
    assert.ok(sum('skipped') + replays.skipped > typed.length / 2, `skipped re-pushes: ${sum('skipped')} + ${replays.skipped}`);
    // Every accepted update is one typed token: no update applied twice.
    assert.equal(d.version - 1, typed.length, 'one version per typed token');
    // Counted from the answers: an aborted request's answer is never seen, so its updates may be missing here.
    const acc = sum('accepted') + replays.accepted;
    assert.ok(acc <= typed.length && acc >= typed.length - sum('abortedUpdates'),
      `accepted in answers ${acc}, tokens ${typed.length}, updates in aborted pushes ${sum('abortedUpdates')}`);

    const found = d.text.match(TOKEN_RE) ?? [];
    assert.equal(found.join(''), d.text, 'the text is made of whole tokens only');
    const counts = new Map();
    for (const tok of found) counts.set(tok, (counts.get(tok) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([tok]) => tok);
    assert.deepEqual(twice, [], 'tokens that appear more than once');
    const missing = typed.filter((tok) => !counts.has(tok));
    assert.deepEqual(missing, [], 'typed tokens missing from the text');
    assert.equal(found.length, typed.length);

    for (const cl of clients) {
      assert.equal(cl.text(), d.text, `${cl.name} text equals the server's`);
      const proof = await cl.proveSync();
      assert.equal(proof.ok, true, `${cl.name} sync proof ${JSON.stringify(proof)}`);
    }
    const log = await serverLog(c.url, fx.project, path, fx.writers[0].token, 1);
    assert.equal(replay('', log.updates, 1).text, d.text, 'the log replays to the server text');

    // After quiescence, every captured push sent again is skipped entirely.
    let late = 0;
    for (const body of captured.slice(-40)) {
      const j = await pushRaw(body);
      if (!j) continue;
      late++;
      assert.deepEqual([j.accepted, j.skipped, j.version], [0, body.updates.length, d.version], `late re-push at version ${body.version}`);
    }
    assert.ok(late > 0, 'some late re-pushes were within the retained log');
    assert.equal((await serverDoc(c.url, fx.project, path, fx.writers[0].token)).text, d.text);
    for (const cl of clients) cl.close();
  });
});
