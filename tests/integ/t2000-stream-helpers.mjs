// Helpers shared by the t2xxx cohort-stream tests (not a test file itself):
// a raw SSE client that keeps every field it receives (ids included, even on
// blocks without data), a WebSocket client with a message queue, appending
// events in bulk over one Redis connection, and reading Prometheus samples.
// Clusters come from ./lib/cluster.mjs, the one harness.
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { curl, sleep } from './lib/cluster.mjs';

export const streamKey = (name) => `{dev:${name}}:events`;

/** A stored envelope (what producers XADD in field "e"). */
export function stored(name, type, data) {
  const ts = Date.now() * 1000;
  return JSON.stringify({
    type, stream: `dev:${name}`, project: null, actor: { user: null, client: null },
    ts: { recv: ts, pub: ts }, data,
  });
}

/** Polls fn until truthy; throws with `what` after timeout ms. */
export async function until(fn, what, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Opens an SSE stream with node's http client. Resolves once the response
 * headers are in. s.events: [{id, data (parsed JSON), raw}] for blocks with
 * data; s.lastId: the id of the newest dispatched block (as a WHATWG
 * EventSource keeps it: a cut-off block changes nothing);
 * s.comments: comment lines; s.ended once the server closed.
 */
export function sse(url, { headers = {}, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent }, (res) => {
      const s = {
        req, res, status: res.statusCode, headers: res.headers, events: [], comments: [],
        lastId: null, idBlocks: 0, ended: false, body: '',
        close() { req.destroy(); },
        async waitEvents(n, timeout = 10000) {
          await until(() => s.events.length >= n, `${n} events (have ${s.events.length})`, timeout);
          return s.events;
        },
        async waitEnd(timeout = 10000) { await until(() => s.ended, 'the stream to end', timeout); },
      };
      let buf = '';
      let data = [];
      let blockId = null; // as the spec says: an id takes effect when its event is dispatched
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (s.status !== 200) { s.body += chunk; return; }
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (blockId !== null) {
              s.lastId = blockId;
              if (!data.length) s.idBlocks++;
            }
            if (data.length) {
              const raw = data.join('\n');
              s.events.push({ id: s.lastId, data: JSON.parse(raw), raw });
            }
            data = [];
            blockId = null;
            continue;
          }
          if (line.startsWith(':')) { s.comments.push(line); continue; }
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          let value = i < 0 ? '' : line.slice(i + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'id') blockId = value;
          else if (field === 'data') data.push(value);
        }
      });
      const done = () => { s.ended = true; };
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
      resolve(s);
    });
    req.on('error', reject);
  });
}

/** Opens an SSE stream and waits for its start position (the first id). */
export async function sseReady(url, opts) {
  const s = await sse(url, opts);
  if (s.status === 200) await until(() => s.lastId !== null, 'the start position');
  return s;
}

/** A WebSocket with a queue of parsed messages. */
export function wsOpen(url, opts = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    const w = {
      ws, msgs: [], pings: 0, closed: null,
      send(obj) { ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); },
      /** Waits for the next message that matches pred, consuming messages before it. */
      async next(pred = () => true, timeout = 10000) {
        let found;
        await until(() => {
          const i = w.msgs.findIndex(pred);
          if (i < 0) return false;
          found = w.msgs[i];
          w.msgs.splice(0, i + 1);
          return true;
        }, 'a WebSocket message', timeout);
        return found;
      },
      close() { ws.terminate(); },
    };
    ws.on('message', (m, binary) => w.msgs.push(binary ? { binary: true } : JSON.parse(m.toString())));
    ws.on('ping', () => { w.pings++; });
    ws.on('close', (code, reason) => { w.closed = { code, reason: reason.toString() }; });
    ws.once('open', () => resolve(w));
    ws.once('error', reject);
  });
}

/** Collected "events" messages of a WebSocket: [{id, event}] in order, plus the last pos. */
export function wsEvents(w) {
  const out = [];
  let pos = null;
  for (const m of w.msgs) {
    if (m.type !== 'events') continue;
    for (const e of m.events) out.push(e);
    pos = m.pos;
  }
  return { events: out, pos };
}

/**
 * Runs Redis commands over one connection, pipelined; resolves with the
 * replies (strings, numbers, arrays; errors as Error objects).
 */
export function redisPipe(port, commands) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const replies = [];
    let buf = Buffer.alloc(0);
    const parse = (b, at) => {
      const eol = b.indexOf('\r\n', at);
      if (eol < 0) return null;
      const t = String.fromCharCode(b[at]);
      const line = b.toString('utf8', at + 1, eol);
      if (t === '+') return [line, eol + 2];
      if (t === '-') return [new Error(line), eol + 2];
      if (t === ':') return [Number(line), eol + 2];
      if (t === '$') {
        const n = Number(line);
        if (n < 0) return [null, eol + 2];
        if (b.length < eol + 2 + n + 2) return null;
        return [b.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
      }
      if (t === '*') {
        const n = Number(line);
        if (n < 0) return [null, eol + 2];
        const arr = [];
        let p = eol + 2;
        for (let i = 0; i < n; i++) {
          const r = parse(b, p);
          if (!r) return null;
          arr.push(r[0]);
          p = r[1];
        }
        return [arr, p];
      }
      throw new Error(`bad RESP type ${t}`);
    };
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let at = 0;
      for (;;) {
        const r = parse(buf, at);
        if (!r) break;
        replies.push(r[0]);
        at = r[1];
      }
      buf = buf.subarray(at);
      if (replies.length === commands.length) { sock.end(); resolve(replies); }
    });
    sock.on('error', reject);
    const out = [];
    for (const cmd of commands) {
      out.push(`*${cmd.length}\r\n`);
      for (const a of cmd) out.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
    }
    sock.write(out.join(''));
    if (!commands.length) { sock.end(); resolve([]); }
  });
}

/** Appends n events to dev:<name> (data {seq: from+i, ...extra}); resolves with their ids. */
export async function append(c, name, n, { from = 0, type = 't', pad = 0 } = {}) {
  const cmds = [];
  for (let i = 0; i < n; i++) {
    const data = { seq: from + i };
    if (pad) data.pad = 'x'.repeat(pad);
    cmds.push(['XADD', streamKey(name), '*', 'e', stored(name, type, data)]);
  }
  const ids = await redisPipe(c.redisPort, cmds);
  for (const id of ids) if (id instanceof Error) throw id;
  return ids;
}

/** The value of one Prometheus sample (name with labels, exactly), or undefined. */
export function sample(text, name) {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ')) return Number(line.slice(name.length + 1));
  }
  return undefined;
}

/** The streamer's metrics through nginx, as a function of sample names. */
export async function metrics(url) {
  const r = await curl(`${url}/stream/metrics`);
  if (r.status !== 200) throw new Error(`metrics: ${r.status}`);
  return (name) => sample(r.body, name);
}

/** Waits until the streamer at url holds no client connection (earlier tests' clients are gone). */
export async function quiesce(url, timeout = 5000) {
  await until(async () => {
    const m = await metrics(url);
    return m('cohort_stream_connections{transport="sse"}') === 0 && m('cohort_stream_connections{transport="ws"}') === 0;
  }, 'no open client connections', timeout);
}

/** "scope=ms-seq,..." → {scope: 'ms-seq'} */
export function parsePos(pos) {
  const out = {};
  for (const item of pos.split(',')) {
    const i = item.lastIndexOf('=');
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** Compares Redis entry ids. */
export function cmpId(a, b) {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

export const wsUrl = (httpUrl) => httpUrl.replace(/^http/, 'ws');
