// The reference live-editing client (docs/protocol.md section 9): a Node
// editor session built on @codemirror/state + @codemirror/collab, with no
// browser, that talks to cohort exactly as the web page does.
//
// - open(): GET /api/v1/projects/{p}/doc?path= for text + version; an
//   EditorState with collab({startVersion, clientID}); a fresh random client id
//   per session (every reload makes a new one).
// - edit(spec): a local transaction; its update is pushed later.
// - Pushing sends ALL sendableUpdates, from the first, with getSyncedVersion()
//   (REST POST .../doc/updates, or the WebSocket `push` message). Network
//   errors, 5xx, 429 and 409 are retried with backoff (after a pull: the push
//   may have been accepted before its answer was lost); 410 version_gone
//   reloads the document. Other refusals are recorded in `errors` (a test
//   treats them as failures) and reload.
// - Receiving: `update` events of the project stream over SSE (eventsource,
//   resumed with Last-Event-ID) or WebSocket (ws, `subscribe` with `after`),
//   kept by version and applied ONE AT A TIME in version order: one
//   receiveUpdates(state, [u]) per update. Versions <= the synced version are
//   ignored; a gap (a `reset`, a reconnect without resume) is filled with
//   GET .../doc/updates?since=<synced> first. Own updates come back through
//   the stream and confirm (@codemirror/collab matches them by client id).
// - proveSync(): when idle, GET .../doc/sum?version=<synced> against the
//   SHA-256 of state.doc.toString() (UTF-8).
// - Faults for tests: random delays before pushes and before applying
//   received updates, answers dropped after acceptance (the push is sent
//   again at once, as if the answer were lost), duplicate pushes sent in
//   parallel, aborted requests, and disconnect()/connect() of the event
//   transport (with or without resuming).
// - COHORT_COLLAB_DEBUG=1 keeps every push answer with its body's client ids
//   in client.answers (to match answers against the server's log).

import { createHash } from 'node:crypto';
import { ChangeSet, EditorState } from '@codemirror/state';
import { collab, getClientID, getSyncedVersion, receiveUpdates, sendableUpdates } from '@codemirror/collab';
import EventSource from 'eventsource';
import WebSocket from 'ws';

export const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A small seeded PRNG (sfc32): rng() in [0, 1). */
export function makeRng(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = (seed >>> 0) ^ 0xdeadbeef;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

/** An error answer of the API (problem+json) or a transport failure (status 0). */
export class HttpError extends Error {
  constructor(status, code, detail, body) {
    super(`${status} ${code}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Moves pos back to a code point boundary of text (never between a surrogate pair). */
export function cpBoundary(text, pos) {
  if (pos > 0 && pos < text.length) {
    const hi = text.charCodeAt(pos - 1), lo = text.charCodeAt(pos);
    if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) return pos - 1;
  }
  return pos;
}

/** True when no position of the change set falls inside a surrogate pair of doc. */
export function changesOnBoundaries(doc, changes) {
  let ok = true;
  changes.iterChangedRanges((fromA, toA) => {
    if (cpBoundary(doc, fromA) !== fromA || cpBoundary(doc, toA) !== toA) ok = false;
  });
  return ok;
}

let sessions = 0;

/** WebSocket error codes as the REST status they stand for (docs/protocol.md section 9): decides retry / reload. */
const WS_ERROR_STATUS = {
  version_gone: 410, conflict: 409, unavailable: 503, redis_error: 503, rate_limited: 429,
  not_found: 404, forbidden: 403, unauthenticated: 401, invalid_token: 401, binary_file: 409,
  limit_exceeded: 413, out_of_range: 422, invalid_field: 422,
};
const live = new Set();

/** Closes every client still open (tests call it in after(), so a failure leaves no reconnecting socket behind). */
export function closeAll() {
  for (const cl of [...live]) cl.close();
}

export class CollabClient {
  /**
   * opts:
   *  url           base URL of nginx (http://127.0.0.1:port)
   *  apiUrl        base for /api/v1 (default url)
   *  streamUrl     base for /stream/ (default url; a streamer's direct URL works too)
   *  project, path, token
   *  transport     'sse' | 'ws' (default 'sse')
   *  pushVia       'rest' | 'ws' (default 'rest'; 'ws' needs transport 'ws')
   *  auth          'header' | 'query' (how the event transport sends the token; default 'header')
   *  rng           () => [0,1) (default Math.random); client ids and faults use it
   *  name          label in errors and logs
   *  pushDelay     [min, max] ms before each push (default [0, 0])
   *  recvDelay     [min, max] ms before queued received updates are applied (default [0, 0])
   *  dropRate      probability that a push's answer is ignored after acceptance and the push is sent again
   *  dupRate       probability that a push is sent twice in parallel
   *  abortRate     probability that a REST push is aborted a few ms after it was sent (network error)
   *  eager         push again without waiting for the echo of an accepted push (default false)
   *  autoPush      push after local edits by itself (default true); false: only flush() pushes
   *  onPush        (body) => void, called with every push body sent (tests replay them)
   *  onError       (err) => void, in addition to errors[]
   */
  constructor(opts) {
    this.o = { transport: 'sse', pushVia: 'rest', auth: 'header', pushDelay: [0, 0], recvDelay: [0, 0],
      dropRate: 0, dupRate: 0, abortRate: 0, eager: false, autoPush: true, ...opts };
    live.add(this);
    this.o.apiUrl ??= this.o.url;
    this.o.streamUrl ??= this.o.url;
    this.rng = this.o.rng || Math.random;
    this.name = this.o.name || 'client';
    this.state = null;
    this.received = new Map(); // version -> {clientID, changes: ChangeSet}
    this.errors = [];
    this.closed = false;
    this.loaded = false;
    this.pushing = false;
    this.pulling = false;
    this.pullAgain = false;
    this.reloading = null;
    this.awaitVersion = 0; // version an accepted push of ours reached: no new push before (unless eager)
    this.target = 0;       // a version settle() waits for
    this.pushFailures = 0;
    this.timers = new Set();
    this.pushTimer = null;
    this.drainTimer = null;
    this.catchupTimer = null;
    this.retryTimer = null;
    this.es = null;
    this.ws = null;
    this.connected = false;
    this.wantConnected = false;
    this.lastEventId = null; // SSE position
    this.wsPos = null;       // WebSocket position
    this.wsReqs = new Map();
    this.wsReqSeq = 0;
    this.listeners = new Set();
    this.reloadWhy = {}; // reason -> count
    this.stats = {
      edits: 0, pushes: 0, pushedUpdates: 0, accepted: 0, skipped: 0, dropped: 0, dups: 0, aborted: 0, abortedUpdates: 0,
      retries: 0, conflicts: 0, pulls: 0, gapPulls: 0, catchupPulls: 0, pulledUpdates: 0, events: 0,
      applied: 0, own: 0, ignored: 0, reloads: 0, reconnects: 0, resets: 0, sums: 0, wsPushes: 0,
    };
  }

  // ---------------------------------------------------------------- helpers

  q() {
    return `path=${encodeURIComponent(this.o.path)}`;
  }

  docUrl(kind, extra = '') {
    return `${this.o.apiUrl}/api/v1/projects/${this.o.project}/doc${kind}?${this.q()}${extra}`;
  }

  rand([lo, hi]) {
    return hi > lo ? lo + Math.floor(this.rng() * (hi - lo + 1)) : lo;
  }

  timer(fn, ms) {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.closed) fn(); }, ms);
    this.timers.add(t);
    return t;
  }

  clear(t) {
    if (t) { clearTimeout(t); this.timers.delete(t); }
    return null;
  }

  error(what, e) {
    const err = e instanceof Error ? e : new Error(String(e));
    err.message = `${this.name}: ${what}: ${err.message}`;
    this.errors.push(err);
    this.o.onError?.(err);
  }

  /** Notifies waiters (idle(), settle()) that something changed. */
  changed() {
    for (const l of [...this.listeners]) l();
  }

  async http(method, url, body, { signal } = {}) {
    const headers = { Authorization: `Bearer ${this.o.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (e) {
      throw new HttpError(0, 'network', e.message);
    }
    let text;
    try {
      text = await res.text();
    } catch (e) {
      throw new HttpError(0, 'network', e.message);
    }
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) throw new HttpError(res.status, json?.code ?? 'http', json?.detail ?? text.slice(0, 200), json);
    return json;
  }

  // ---------------------------------------------------------------- state

  get version() { return this.state ? getSyncedVersion(this.state) : 0; }
  get clientID() { return this.state ? getClientID(this.state) : ''; }
  get unconfirmed() { return this.state ? sendableUpdates(this.state).length : 0; }
  text() { return this.state ? this.state.doc.toString() : ''; }

  newClientID() {
    let s = '';
    for (let i = 0; i < 16; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(this.rng() * 36)];
    return `${s}${(++sessions).toString(36)}`;
  }

  /** Loads the document (a new session: new client id) and connects the event transport. */
  async open() {
    await this.load();
    this.wantConnected = true;
    await this.connect();
    return this;
  }

  async load() {
    const d = await this.http('GET', this.docUrl(''));
    this.state = EditorState.create({ doc: d.text, extensions: [collab({ startVersion: d.version, clientID: this.newClientID() })] });
    if (sha256(this.state.doc.toString()) !== d.sum) this.error('load', new Error(`sum of the loaded text differs at version ${d.version}`));
    this.loaded = true;
    this.awaitVersion = d.version;
    for (const v of [...this.received.keys()]) if (v <= d.version) this.received.delete(v);
    this.drain();
    this.changed();
  }

  /** Starts over from the server's text with a new client id (unconfirmed edits are lost). */
  reload(why) {
    if (this.reloading || this.closed) return this.reloading;
    this.stats.reloads++;
    this.lastReload = why;
    this.reloadWhy[why] = (this.reloadWhy[why] ?? 0) + 1;
    this.loaded = false;
    this.received.clear();
    this.reloading = (async () => {
      for (let i = 0; !this.closed; i++) {
        try {
          await this.load();
          break;
        } catch (e) {
          if (i > 20) { this.error('reload', e); break; }
          await sleep(100 * Math.min(i + 1, 10));
        }
      }
    })().finally(() => { this.reloading = null; this.changed(); this.afterProgress(); });
    return this.reloading;
  }

  /** A local edit: spec as for state.update({changes}) (positions at the current local text). */
  edit(changes, spec = { changes }) {
    if (!this.loaded) return false;
    const tr = this.state.update(spec);
    if (tr.changes.empty) return false;
    this.state = tr.state;
    this.stats.edits++;
    this.schedulePush(this.rand(this.o.pushDelay));
    this.changed();
    return true;
  }

  /** Types text at the main cursor (replacing the selection) and moves the cursor after it, as a keyboard does. */
  type(text) {
    if (!this.loaded) return false;
    return this.edit(null, this.state.replaceSelection(text));
  }

  /** Moves the cursor (no document change, nothing to push). Remote edits map it as CodeMirror does. */
  setCursor(anchor, head = anchor) {
    if (!this.loaded) return;
    this.state = this.state.update({ selection: { anchor, head } }).state;
  }

  get cursor() { return this.state ? this.state.selection.main.head : 0; }

  // ---------------------------------------------------------------- receiving

  /** An `update` envelope from the event stream (or anything shaped like it). */
  onUpdateEvent(e) {
    if (e.file !== this.o.path || String(e.project) !== String(this.o.project)) return;
    this.stats.events++;
    this.queue(e.version, e.data?.clientID, e.data?.changes);
  }

  queue(version, clientID, changes) {
    if (!Number.isInteger(version)) return this.error('receive', new Error(`update without a version: ${version}`));
    if (this.loaded && version <= this.version) { this.stats.ignored++; return; }
    if (this.received.has(version)) { this.stats.ignored++; return; }
    let cs;
    try {
      cs = ChangeSet.fromJSON(changes);
    } catch (err) {
      this.error('receive', new Error(`version ${version}: unreadable changes ${JSON.stringify(changes).slice(0, 200)}: ${err.message}`));
      return;
    }
    this.received.set(version, { clientID, changes: cs });
    this.scheduleDrain();
  }

  scheduleDrain() {
    if (this.drainTimer) return;
    const d = this.rand(this.o.recvDelay);
    if (d <= 0) { this.drain(); return; }
    this.drainTimer = this.timer(() => { this.drainTimer = null; this.drain(); }, d);
  }

  /** Length of the text at the synced version (current minus unconfirmed changes). */
  syncedLength() {
    const ups = sendableUpdates(this.state);
    return ups.length ? ups[0].changes.length : this.state.doc.length;
  }

  /** Applies queued updates in version order, one receiveUpdates call each. */
  drain() {
    if (!this.loaded || this.reloading || this.closed) return;
    let v = this.version;
    for (;;) {
      const u = this.received.get(v + 1);
      if (!u) break;
      this.received.delete(v + 1);
      if (u.changes.length !== this.syncedLength()) {
        this.error('diverged', new Error(`update ${v + 1} (client ${u.clientID}) has length ${u.changes.length}, text at version ${v} has ${this.syncedLength()}`));
        this.reload('diverged');
        return;
      }
      const before = this.unconfirmed;
      this.state = receiveUpdates(this.state, [u]).state;
      if (this.unconfirmed < before) this.stats.own++;
      this.stats.applied++;
      v++;
    }
    for (const k of [...this.received.keys()]) if (k <= v) this.received.delete(k);
    if (this.received.size) {
      this.stats.gapPulls++;
      this.pull();
    }
    this.afterProgress();
    this.changed();
  }

  /** Pulls every update after the synced version (gap, reconnect, late confirmation). */
  async pull() {
    if (!this.loaded || this.closed) return;
    if (this.pulling) { this.pullAgain = true; return; }
    this.pulling = true;
    try {
      do {
        this.pullAgain = false;
        for (;;) {
          const since = this.version;
          this.stats.pulls++;
          const r = await this.http('GET', this.docUrl('/updates', `&since=${since}`));
          if (this.closed || !this.loaded) return;
          for (const u of r.updates) {
            if (u.version > this.version && !this.received.has(u.version)) {
              this.stats.pulledUpdates++;
              this.received.set(u.version, { clientID: u.clientID, changes: ChangeSet.fromJSON(u.changes) });
            }
          }
          this.drain(); // a gap it still sees sets pullAgain
          if (r.updates.length < 1000 || this.version >= r.version) break;
        }
      } while (this.pullAgain && this.received.size && !this.closed);
    } catch (e) {
      if (e.status === 410) this.reload('version_gone on pull');
      else if (e.status === 0 || e.status >= 500) this.timer(() => this.pull(), 100);
      else this.error('pull', e);
    } finally {
      this.pulling = false;
    }
  }

  // ---------------------------------------------------------------- pushing

  schedulePush(delay = 0) {
    if (this.pushTimer || this.pushing || !this.o.autoPush) return;
    this.pushTimer = this.timer(() => { this.pushTimer = null; if (this.o.autoPush) this.push(); }, delay);
  }

  afterProgress() {
    if (!this.loaded || this.closed) return;
    if (this.unconfirmed && !this.pushing && !this.retryTimer && (this.o.eager || this.version >= this.awaitVersion)) {
      this.schedulePush(this.rand(this.o.pushDelay));
    } else if (this.unconfirmed && this.version < this.awaitVersion) {
      this.scheduleCatchup();
    }
  }

  /** After an accepted push, make sure its echo arrives even if an event was lost. */
  scheduleCatchup() {
    if (this.catchupTimer) return;
    this.catchupTimer = this.timer(() => {
      this.catchupTimer = null;
      if (this.loaded && this.version < Math.max(this.awaitVersion, this.target)) {
        this.stats.catchupPulls++;
        this.pull();
        this.scheduleCatchup();
      }
    }, 500);
  }

  body() {
    return {
      version: this.version,
      updates: sendableUpdates(this.state).map((u) => ({ clientID: u.clientID, changes: u.changes.toJSON() })),
    };
  }

  /** Pushes now (with autoPush false the only way edits leave the client); resolves when answered. */
  flush() {
    return this.push();
  }

  async sendPush(body) {
    this.o.onPush?.(body);
    this.stats.pushes++;
    this.stats.pushedUpdates += body.updates.length;
    if (this.o.pushVia === 'ws') return this.wsPush(body);
    let ctl, t;
    if (this.o.abortRate && this.rng() < this.o.abortRate) {
      ctl = new AbortController();
      t = setTimeout(() => ctl.abort(), this.rand([0, 5]));
      this.stats.aborted++;
      this.stats.abortedUpdates += body.updates.length;
    }
    let r;
    try {
      r = await this.http('POST', this.docUrl('/updates'), body, { signal: ctl?.signal });
    } finally {
      clearTimeout(t);
    }
    this.count(r, body);
    return r;
  }

  /** Counts every answer, also those the client then treats as lost. */
  count(r, body) {
    if (process.env.COHORT_COLLAB_DEBUG) (this.answers ??= []).push({ r, body: { version: body?.version, updates: body?.updates.map((u) => u.clientID) } });
    this.stats.accepted += r.accepted;
    this.stats.skipped += r.skipped;
  }

  /** Pushes all unconfirmed updates from the first, at the synced version. */
  async push() {
    if (this.pushing || !this.loaded || this.reloading || this.closed) return;
    if (!this.unconfirmed) return;
    if (!this.o.eager && this.version < this.awaitVersion) { this.scheduleCatchup(); return; }
    this.pushing = true;
    try {
      let body = this.body();
      let r;
      if (this.o.dupRate && this.rng() < this.o.dupRate) {
        this.stats.dups++;
        const rs = await Promise.allSettled([this.sendPush(body), this.sendPush(body)]);
        const bad = rs.find((x) => x.status === 'rejected');
        if (bad) throw bad.reason;
        r = rs[0].value;
        if (rs[1].value.version > r.version) r = rs[1].value;
      } else {
        r = await this.sendPush(body);
      }
      // The answer is "lost": send the same push again (the server must skip it).
      while (this.o.dropRate && this.rng() < this.o.dropRate && !this.closed && this.loaded) {
        this.stats.dropped++;
        body = this.body();
        if (!body.updates.length) break;
        r = await this.sendPush(body);
      }
      this.pushFailures = 0;
      this.awaitVersion = Math.max(this.awaitVersion, r.version);
      if (this.version < this.awaitVersion) this.scheduleCatchup();
    } catch (e) {
      this.onPushError(e);
    } finally {
      this.pushing = false;
    }
    this.afterProgress();
    this.changed();
  }

  onPushError(e) {
    if (this.closed) return;
    const transient = e.status === 0 || e.status >= 500 || e.status === 429 || e.status === 408 || e.code === 'conflict' || e.code === 'timeout';
    if (e.code === 'conflict') this.stats.conflicts++;
    if (transient) {
      this.stats.retries++;
      this.pushFailures++;
      const delay = Math.min(2000, 20 * 2 ** Math.min(this.pushFailures, 7)) * (0.5 + this.rng());
      this.retryTimer = this.clear(this.retryTimer);
      this.retryTimer = this.timer(async () => {
        this.retryTimer = null;
        await this.pull();
        this.push();
      }, delay);
      return;
    }
    if (e.status === 410) {
      this.reload('version_gone on push');
      return;
    }
    this.error('push', e);
    this.reload(`push refused: ${e.code}`);
  }

  // ---------------------------------------------------------------- events

  /** Connects the event transport (resuming from the last position when resume is true). */
  async connect({ resume = true } = {}) {
    this.wantConnected = true;
    if (this.es || this.ws) return;
    if (!resume) { this.lastEventId = null; this.wsPos = null; }
    if (this.o.transport === 'ws') await this.connectWs();
    else await this.connectSse();
  }

  /** Closes the event transport (the document stays loaded; pushes still work over REST). */
  disconnect() {
    this.wantConnected = false;
    this.connected = false;
    if (this.es) { this.es.close(); this.es = null; }
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.removeAllListeners('close');
      ws.on('close', () => {});
      ws.terminate();
      this.failWsRequests(new HttpError(0, 'network', 'WebSocket closed'));
    }
  }

  async reconnect({ resume = true, pause = 0 } = {}) {
    this.stats.reconnects++;
    this.disconnect();
    if (pause) await sleep(pause);
    if (!this.closed) await this.connect({ resume });
  }

  authQuery(sep) {
    return this.o.auth === 'query' ? `${sep}access_token=${encodeURIComponent(this.o.token)}` : '';
  }

  authHeaders() {
    return this.o.auth === 'query' ? {} : { Authorization: `Bearer ${this.o.token}` };
  }

  onEnvelope(e) {
    if (e.type === 'update') this.onUpdateEvent(e);
    else if (e.type === 'reset') {
      this.stats.resets++;
      this.pull();
    }
  }

  connectSse() {
    const url = `${this.o.streamUrl}/stream/events?streams=project:${this.o.project}${this.authQuery('&')}`;
    const headers = this.authHeaders();
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    const es = new EventSource(url, { headers });
    this.es = es;
    return new Promise((resolve) => {
      let first = true;
      es.onopen = () => {
        this.connected = true;
        // Whatever happened while we were away: catch up (events after a
        // resume come too; duplicates are ignored by version).
        this.pull();
        if (first) { first = false; resolve(); }
      };
      es.onmessage = (m) => {
        if (m.lastEventId) this.lastEventId = m.lastEventId;
        let e;
        try { e = JSON.parse(m.data); } catch (err) { this.error('sse', err); return; }
        this.onEnvelope(e);
      };
      es.onerror = (err) => {
        this.connected = false;
        // eventsource reconnects by itself (with its own last id) unless the
        // answer was an HTTP error; then it closes: try again ourselves.
        if (err?.status) {
          if (es.readyState === EventSource.CLOSED && this.es === es && this.wantConnected) {
            this.es = null;
            this.timer(() => { if (this.wantConnected && !this.es) this.connectSse(); }, 200);
          }
          if (err.status < 500) this.error('sse', new Error(`HTTP ${err.status} ${err.message ?? ''}`));
        }
        if (first) { first = false; resolve(); }
      };
    });
  }

  connectWs() {
    const ws = new WebSocket(`${this.o.streamUrl.replace(/^http/, 'ws')}/stream/ws${this.authQuery('?')}`, { headers: this.authHeaders() });
    this.ws = ws;
    return new Promise((resolve) => {
      let first = true;
      const done = () => { if (first) { first = false; resolve(); } };
      ws.on('open', () => {
        const sub = { type: 'subscribe', streams: [`project:${this.o.project}`] };
        if (this.wsPos) sub.after = this.wsPos;
        ws.send(JSON.stringify(sub));
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return this.error('ws', new Error('binary message'));
        let m;
        try { m = JSON.parse(data.toString('utf8')); } catch (err) { this.error('ws', err); return; }
        if (m.type === 'subscribed') {
          this.connected = true;
          this.wsPos = m.pos;
          this.pull();
          done();
        } else if (m.type === 'events') {
          for (const e of m.events) this.onEnvelope(e);
          this.wsPos = m.pos;
        } else if (m.type === 'ack' || (m.type === 'error' && m.id !== undefined && this.wsReqs.has(m.id))) {
          const req = this.wsReqs.get(m.id);
          if (req) {
            this.wsReqs.delete(m.id);
            if (m.type === 'ack') req.resolve(m);
            else req.reject(new HttpError(WS_ERROR_STATUS[m.code] ?? 400, m.code, m.detail, m));
          }
        } else if (m.type === 'error') {
          this.error('ws', new Error(`${m.code}: ${m.detail}`));
          done();
        }
      });
      ws.on('error', () => { /* close follows */ });
      ws.on('close', () => {
        this.connected = false;
        if (this.ws === ws) {
          this.ws = null;
          this.failWsRequests(new HttpError(0, 'network', 'WebSocket closed'));
          if (this.wantConnected && !this.closed) this.timer(() => { if (this.wantConnected && !this.ws) this.connectWs(); }, 200);
        }
        done();
      });
    });
  }

  failWsRequests(err) {
    for (const [, r] of this.wsReqs) r.reject(err);
    this.wsReqs.clear();
  }

  wsPush(body) {
    this.stats.wsPushes++;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new HttpError(0, 'network', 'WebSocket not open'));
    const id = `p${++this.wsReqSeq}`;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.wsReqs.delete(id); reject(new HttpError(0, 'timeout', 'no ack within 10 s')); }, 10000);
      this.wsReqs.set(id, {
        resolve: (m) => { clearTimeout(t); resolve(m); },
        reject: (e) => { clearTimeout(t); reject(e); },
      });
      ws.send(JSON.stringify({ type: 'push', id, project: Number(this.o.project), path: this.o.path, ...body }));
    }).then((m) => {
      this.count(m, body);
      return m;
    });
  }

  // ---------------------------------------------------------------- waiting, proof

  /** Resolves when pred() is true (checked on every change), rejects after timeout ms. */
  waitUntil(pred, timeout, what) {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const l = () => {
        if (!pred()) return;
        this.listeners.delete(l);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what} (version ${this.version}, unconfirmed ${this.unconfirmed}, awaiting ${this.awaitVersion}, queued ${[...this.received.keys()].slice(0, 5)})`));
      }, timeout);
      this.listeners.add(l);
    });
  }

  /** True when nothing is unconfirmed, pushed, pulled, queued or reloading. */
  isIdle() {
    return this.loaded && !this.reloading && !this.pushing && !this.unconfirmed && !this.received.size;
  }

  /** Waits until idle and at least at version v (reached through events or catch-up pulls). */
  async settle(v = 0, timeout = 20000) {
    const end = Date.now() + timeout;
    for (;;) {
      this.afterProgress();
      if (v > this.version) this.scheduleCatchupFor(v);
      try {
        await this.waitUntil(() => this.isIdle() && this.version >= v, Math.max(1, Math.min(2000, end - Date.now())), 'settle');
        return;
      } catch (e) {
        if (Date.now() >= end) throw e;
      }
    }
  }

  /** Pulls now and then until at version v (a version known to exist: events may have been lost). */
  scheduleCatchupFor(v) {
    this.target = Math.max(this.target, v);
    this.scheduleCatchup();
  }

  /**
   * The sync proof: GET .../doc/sum?version=<synced> against the SHA-256 of
   * the local text. Answers {ok, version, local, server}; ok is null when the
   * client was not idle or the version moved on (409).
   */
  async proveSync() {
    if (!this.isIdle()) return { ok: null, version: this.version, why: 'not idle' };
    const version = this.version;
    const local = sha256(this.text());
    this.stats.sums++;
    try {
      const r = await this.http('GET', this.docUrl('/sum', `&version=${version}`));
      if (this.version !== version) return { ok: null, version, why: 'moved on' };
      return { ok: r.sum === local, version, local, server: r.sum };
    } catch (e) {
      if (e.status === 409) return { ok: null, version, why: `server at ${e.body?.version}` };
      throw e;
    }
  }

  close() {
    live.delete(this);
    this.closed = true;
    this.disconnect();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }
}

// -------------------------------------------------------------------- random edits

/** Pieces of inserted text: ASCII, CJK, astral characters (emoji, math letters), ZWJ sequences, newlines. */
export const ALPHABET = [
  'a', 'b', 'c', 'x', 'y', 'z', ' ', ' ', '\n', '\n', '(', ')', '{', '}', ';', 'é', 'ß', 'ж',
  '中', '文', '字', '漢', '한', 'ア', '😀', '🎉', '👍🏽', '👩‍💻', '𝒜', '𝄞', '🀄', '𐍈', '\u0301', '\t',
];

export function randomText(rng, max = 6) {
  const n = 1 + Math.floor(rng() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rng() * ALPHABET.length)];
  return s;
}

/**
 * A random change spec for text: insert, delete, replace, or several
 * non-overlapping ranges at once; positions always on code point boundaries.
 * hot: [from, to) a region most edits aim at (overlaps between clients).
 */
export function randomChange(rng, text, { maxLen = 3000, hot = null } = {}) {
  const len = text.length;
  const pos = () => {
    if (hot && rng() < 0.6 && len) {
      const a = Math.min(hot[0], len), b = Math.min(hot[1], len);
      return cpBoundary(text, a + Math.floor(rng() * (b - a + 1)));
    }
    return cpBoundary(text, Math.floor(rng() * (len + 1)));
  };
  const range = (maxSpan) => {
    const a = pos();
    const b = cpBoundary(text, Math.min(len, a + Math.floor(rng() * (maxSpan + 1))));
    return b >= a ? [a, b] : [b, a];
  };
  const r = rng();
  const bigDelete = len > maxLen && r < 0.5;
  if (bigDelete || (r < 0.25 && len)) {
    const [from, to] = range(bigDelete ? 200 : 8);
    return { from, to };
  }
  if (r < 0.45 && len) {
    const [from, to] = range(6);
    return { from, to, insert: randomText(rng) };
  }
  if (r < 0.55 && len > 4) {
    // Several short ranges in one transaction (sorted, not overlapping).
    const [a, b] = [range(3), range(3)].sort((x, y) => x[0] - y[0]);
    if (a[1] <= b[0]) return [{ from: a[0], to: a[1], insert: randomText(rng, 2) }, { from: b[0], to: b[1] }, { from: b[1], insert: randomText(rng, 1) }];
    return { from: a[0], to: Math.max(a[1], b[1]) };
  }
  const at = pos();
  return { from: at, insert: randomText(rng) };
}

/** Applies a pulled log ([{version, changes}]) to text in order; returns the text. */
export function replay(text, updates, fromVersion) {
  let v = fromVersion;
  let doc = EditorState.create({ doc: text }).doc;
  for (const u of updates) {
    if (u.version !== v + 1) throw new Error(`log not contiguous: ${u.version} after ${v}`);
    const cs = ChangeSet.fromJSON(u.changes);
    if (cs.length !== doc.length) throw new Error(`log update ${u.version} has length ${cs.length}, text has ${doc.length}`);
    doc = cs.apply(doc);
    v = u.version;
  }
  return { text: doc.toString(), version: v };
}

// -------------------------------------------------------------------- test fixture

/**
 * For the t14xx tests: users made by the CLI in cluster c (curl-free: tokens
 * from `cohort mint-token`), a course, a lesson and a project owned by the
 * first writer; every other writer gets rw on it, every reader r.
 * Answers {project, writers: [{login, token}], readers, createFile(path, text)}.
 */
export async function collabFixture(c, { writers = 2, readers = 0 } = {}) {
  const mk = async (login) => {
    await c.cliJson('user-create', login, `User ${login}`);
    const t = await c.cliJson('mint-token', login);
    return { login, token: t.token };
  };
  await mk('teacher');
  const course = await c.cliJson('course-create', '--owner', 'teacher', 'Collab course');
  const ws = [], rs = [];
  for (let i = 0; i < writers; i++) ws.push(await mk(`w${i}`));
  for (let i = 0; i < readers; i++) rs.push(await mk(`r${i}`));
  const parts = [];
  for (const u of [...ws, ...rs]) {
    parts.push((await c.cliJson('course-join', '--user', u.login, '--code', course.join_code, '--nickname', u.login)).participant.id);
  }
  const lesson = (await c.cliJson('lesson-create', course.course.id, 'Lesson 1')).lesson.id;
  const project = (await c.cliJson('project-ensure', lesson, parts[0])).project.id;
  for (let i = 1; i < parts.length; i++) await c.cliJson('grant', project, parts[i], i < writers ? 'rw' : 'r', '--by', parts[0]);
  const createFile = async (path, text, url = c.url) => {
    const res = await fetch(`${url}/api/v1/projects/${project}/file?path=${encodeURIComponent(path)}&parents=1`, {
      method: 'PUT', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${ws[0].token}` }, body: text,
    });
    if (res.status !== 201) throw new Error(`creating ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return { project, writers: ws, readers: rs, createFile };
}

/** GET /doc and the whole log since version `since` (pages of up to 1000). */
export async function serverDoc(url, project, path, token) {
  const h = { Authorization: `Bearer ${token}` };
  const res = await fetch(`${url}/api/v1/projects/${project}/doc?path=${encodeURIComponent(path)}`, { headers: h });
  if (!res.ok) throw new Error(`GET doc: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function serverLog(url, project, path, token, since) {
  const h = { Authorization: `Bearer ${token}` };
  const out = [];
  for (;;) {
    const res = await fetch(`${url}/api/v1/projects/${project}/doc/updates?path=${encodeURIComponent(path)}&since=${since}`, { headers: h });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const e = new Error(`GET updates since ${since}: ${res.status} ${JSON.stringify(body)}`);
      e.status = res.status;
      throw e;
    }
    out.push(...body.updates);
    if (!body.updates.length || body.updates[body.updates.length - 1].version >= body.version) return { version: body.version, updates: out };
    since = body.updates[body.updates.length - 1].version;
  }
}

/**
 * Records a file's whole log while it grows (the server keeps only the last
 * collab log_max updates): long-polls GET .../doc/updates?since=&wait= and
 * keeps every update. stop() ends it; updates holds them in order.
 */
export class LogRecorder {
  constructor(url, project, path, token, since) {
    Object.assign(this, { url, project, path, token, since, updates: [], error: null, stopped: false });
    this.done = this.run();
  }

  async run() {
    const h = { Authorization: `Bearer ${this.token}` };
    while (!this.stopped) {
      try {
        this.ctl = new AbortController();
        const res = await fetch(`${this.url}/api/v1/projects/${this.project}/doc/updates?path=${encodeURIComponent(this.path)}&since=${this.since}&wait=2`,
          { headers: h, signal: this.ctl.signal });
        const body = await res.json();
        if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
        for (const u of body.updates) {
          if (u.version !== this.since + 1) throw new Error(`log recorder: version ${u.version} after ${this.since}`);
          this.updates.push(u);
          this.since = u.version;
        }
      } catch (e) {
        if (this.stopped) break;
        this.error = e;
        break;
      }
    }
  }

  /** Catches up to version v (or the file's current one), then stops. */
  async stop() {
    this.stopped = true;
    this.ctl?.abort();
    await this.done;
    const rest = await serverLog(this.url, this.project, this.path, this.token, this.since);
    for (const u of rest.updates) {
      if (u.version !== this.since + 1) throw new Error(`log recorder: version ${u.version} after ${this.since}`);
      this.updates.push(u);
      this.since = u.version;
    }
    if (this.error) throw this.error;
    return this.updates;
  }
}

/** Runs fn; on failure the message names the seed, so the run can be replayed. */
export async function seeded(seed, fn) {
  try {
    return await fn();
  } catch (e) {
    console.error(`# seed ${seed} failed (replay with COHORT_SEED=${seed})`);
    e.message = `[seed ${seed}] ${e.message}`;
    throw e;
  }
}

/** The seed of a run: $COHORT_SEED, else a random one. */
export const runSeed = () => Number(process.env.COHORT_SEED ?? Math.floor(Math.random() * 2 ** 31));

/**
 * Quiescence and the convergence checks shared by t1410 and t1413: every
 * client settles at the server's version with no errors, its text equals
 * GET /doc, its sync proof passes, and the whole log (recorder: a
 * LogRecorder started at version 1) replays from `initial` to the server's
 * text; GET /doc/updates?since=1 is compared too while the server retains it
 * (wholeLog: it must, the cluster runs with a large collab.log_max).
 * Answers {doc, log, stats} (stats: the clients' counters summed).
 */
export async function assertConverged(assert, { url, project, path, token, clients, initial, recorder, wholeLog = false, diagnostic = () => {} }) {
  for (const cl of clients) if (!cl.es && !cl.ws) await cl.connect();
  await Promise.all(clients.map((cl) => cl.settle(0, 30000)));
  const doc = await serverDoc(url, project, path, token);
  await Promise.all(clients.map((cl) => cl.settle(doc.version, 30000)));
  const stats = { reloadWhy: {} };
  for (const cl of clients) {
    for (const [k, n] of Object.entries(cl.stats)) stats[k] = (stats[k] ?? 0) + n;
    for (const [k, n] of Object.entries(cl.reloadWhy)) stats.reloadWhy[k] = (stats.reloadWhy[k] ?? 0) + n;
  }
  for (const cl of clients) assert.deepEqual(cl.errors.map((e) => e.message), [], `${cl.name} errors`);
  for (const cl of clients) {
    assert.equal(cl.version, doc.version, `${cl.name} version`);
    assert.equal(cl.text(), doc.text, `${cl.name} text equals the server's`);
    const proof = await cl.proveSync();
    assert.equal(proof.ok, true, `${cl.name} sync proof ${JSON.stringify(proof)}`);
  }
  const log = await recorder.stop();
  assert.equal(log.length, doc.version - 1, 'recorded log length');
  assert.equal(replay(initial, log, 1).text, doc.text, 'the whole log (recorded while it grew) replays to the server text');
  let direct;
  try {
    direct = await serverLog(url, project, path, token, 1);
  } catch (e) {
    if (e.status !== 410 || wholeLog) throw e;
  }
  if (direct) {
    assert.deepEqual(direct.updates, log, 'GET /doc/updates?since=1 equals the recorded log');
    assert.equal(replay(initial, direct.updates, 1).text, doc.text, 'GET /doc/updates?since=1 replays to the server text');
  } else {
    const first = doc.version - 1000;
    const tail = await serverLog(url, project, path, token, first);
    assert.deepEqual(tail.updates, log.slice(first - 1), 'the retained log equals the recording');
    diagnostic(`GET updates?since=1 is 410 (the server retains the newest ${tail.updates.length}); the recording was replayed instead`);
  }
  return { doc, log, stats };
}

/**
 * One client's random editing session for the convergence tests: `ops`
 * edits (randomChange, many aimed at the shared hot.range, which moves now
 * and then), pauses of 0..maxPause ms, and now and then a reconnect of the
 * event transport (with or without resuming, after a pause) or a reload (a
 * new editor session). Changes that would split a surrogate pair go to bad[].
 */
export async function typeRandomly(cl, rng, { ops, hot = { range: [0, 12] }, bad = [], maxPause = 6, reconnectRate = 0.006, reloadRate = 0.002, maxLen = 2500 }) {
  for (let k = 0; k < ops; k++) {
    await sleep(Math.floor(rng() * (maxPause + 1)));
    const r = rng();
    if (r < reconnectRate) {
      await cl.reconnect({ resume: rng() < 0.7, pause: Math.floor(rng() * 300) });
    } else if (r < reconnectRate + reloadRate) {
      await cl.reload('test: a new editor session');
    }
    if (rng() < 0.01) {
      const at = Math.floor(rng() * 60);
      hot.range = [at, at + 12];
    }
    const text = cl.text();
    const spec = randomChange(rng, text, { maxLen, hot: hot.range });
    if (cl.loaded) {
      const cs = cl.state.changes(spec);
      if (!changesOnBoundaries(text, cs)) bad.push(`${cl.name}: generated a change inside a surrogate pair`);
    }
    cl.edit(spec);
  }
  return bad;
}
