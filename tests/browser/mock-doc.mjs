// A stand-in for the live-editing routes of docs/protocol.md section 9, used
// ONLY while the server under test does not have them (GET .../doc answers
// 404 no_route). It lets the browser tests drive the front end's editing
// client before the backend lands; once the routes exist the tests talk to
// the real authority and this file is not used.
//
// It intercepts /api/v1/projects/<p>/doc* in each browser context
// (Playwright routing) and keeps one authority per file in this process:
// pushes are rebased over each accepted update one at a time (never over
// their composition), re-pushed updates are skipped by clientID, and every
// accepted update and cursor is published as an event by XADD to the
// project's Redis stream, so the real cohort-stream delivers it.

import { ChangeSet, Text } from '@codemirror/state';
import { createHash } from 'node:crypto';
import net from 'node:net';

/** A minimal Redis client on one connection (XADD only needs a reply line). */
class Resp {
  constructor(port) {
    this.sock = net.connect({ port, host: '127.0.0.1' });
    this.sock.setNoDelay(true);
    this.pending = [];
    this.buf = '';
    this.sock.on('data', (d) => {
      this.buf += d.toString('utf8');
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        let line = this.buf.slice(0, i);
        let rest = this.buf.slice(i + 2);
        if (line[0] === '$' && Number(line.slice(1)) >= 0) {
          const n = Number(line.slice(1));
          if (Buffer.byteLength(rest) < n + 2) return;
          line = rest.slice(0, n);
          rest = rest.slice(n + 2);
        }
        this.buf = rest;
        const p = this.pending.shift();
        if (p) (line[0] === '-' ? p.reject(new Error(line)) : p.resolve(line));
      }
    });
  }

  call(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(parts.join(''));
    });
  }

  close() {
    this.sock.destroy();
  }
}

const COLORS = ['#d33682', '#268bd2', '#2aa198', '#b58900', '#6c71c4', '#cb4b16'];

export class MockDocAuthority {
  constructor(c, tokens) {
    this.c = c;
    this.tokens = tokens; // cookie token -> {login, name}
    this.docs = new Map(); // "p|path" -> {doc: Text, updates: [{version, clientID, changes}], cursors: Map}
    this.chain = Promise.resolve();
    this.errors = [];
  }

  /** Whether the server lacks the editing routes (then the mock is needed). */
  static async needed(c, tok, projectId, path) {
    const { curl } = await import('../integ/lib/cluster.mjs');
    const r = await curl(`${c.url}/api/v1/projects/${projectId}/doc?path=${encodeURIComponent(path)}`, { headers: { Authorization: `Bearer ${tok}` } });
    return r.status === 404 && r.body.includes('no_route');
  }

  async file(p, path, tok) {
    const key = `${p}|${path}`;
    let d = this.docs.get(key);
    if (!d) {
      const { curl } = await import('../integ/lib/cluster.mjs');
      const r = await curl(`${this.c.url}/api/v1/projects/${p}/file?path=${encodeURIComponent(path)}`, { headers: { Authorization: `Bearer ${tok}` } });
      if (r.status !== 200) return null;
      d = this.docs.get(key) ?? { doc: Text.of(r.body.replace(/\r\n?/g, '\n').split('\n')), updates: [], base: 1, cursors: new Map() };
      this.docs.set(key, d);
    }
    return d;
  }

  version(d) {
    return d.base + d.updates.length;
  }

  async publish(p, path, type, actor, data, version) {
    const now = Date.now() * 1000;
    const e = { type, stream: `project:${p}`, project: String(p), file: path, actor: { user: actor.login, client: data.clientID ?? null },
      ts: { recv: now, pub: now }, data };
    if (version !== undefined) e.version = version;
    this.resp ??= new Resp(this.c.redisPort);
    await this.resp.call('XADD', `{p:${p}}:events`, 'MAXLEN', '~', '10000', '*', 'e', JSON.stringify(e));
  }

  serial(fn) {
    const r = this.chain.then(fn, fn);
    this.chain = r.catch(() => {});
    return r;
  }

  /** Installs the routes in a browser context signed in with `token`. */
  async install(context) {
    await context.route(/\/api\/v1\/projects\/\d+\/doc/, (route) => this.handle(route));
  }

  async handle(route) {
    const req = route.request();
    const url = new URL(req.url());
    const m = /\/api\/v1\/projects\/(\d+)\/doc(\/updates|\/sum|\/cursor)?$/.exec(url.pathname);
    const cookie = (await req.allHeaders()).cookie ?? '';
    const tok = /cohort_session=([^;]+)/.exec(cookie)?.[1];
    const who = this.tokens.get(tok);
    const json = (status, body) => route.fulfill({ status, contentType: status < 300 ? 'application/json' : 'application/problem+json', body: JSON.stringify(body) });
    if (!m || !who) return json(401, { code: 'unauthenticated', status: 401 });
    const p = Number(m[1]);
    const path = url.searchParams.get('path');
    const kind = m[2] ?? '';
    const method = req.method();
    return this.serial(async () => this.answer(route, req, url, who, tok, p, path, kind, method, json)).catch((e) => {
      this.errors.push(`${method} ${url.pathname}: ${e.stack}`);
      return json(500, { code: 'mock_error', status: 500, detail: String(e) });
    });
  }

  async answer(route, req, url, who, tok, p, path, kind, method, json) {
    {
      const d = await this.file(p, path, tok);
      if (!d) return json(404, { code: 'not_found', status: 404 });
      const version = this.version(d);
      if (kind === '' && method === 'GET') {
        const text = d.doc.toString();
        return json(200, { path, version, text, sum: sha(text), eol: 'lf', cursors: [...d.cursors.values()] });
      }
      if (kind === '/sum' && method === 'GET') {
        const v = Number(url.searchParams.get('version'));
        if (v !== version) return json(409, { code: 'conflict', status: 409, version });
        return json(200, { version, sum: sha(d.doc.toString()) });
      }
      if (kind === '/updates' && method === 'GET') {
        const since = Number(url.searchParams.get('since'));
        const wait = Number(url.searchParams.get('wait') ?? 0);
        if (since < d.base) return json(410, { code: 'version_gone', status: 410 });
        if (since > version) return json(422, { code: 'out_of_range', status: 422 });
        if (since === version && wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 2) * 1000));
        const v2 = this.version(d);
        return json(200, { version: v2, updates: d.updates.filter((u) => u.version > since).slice(0, 1000) });
      }
      if (kind === '/updates' && method === 'POST') {
        const body = JSON.parse(req.postData() ?? '{}');
        const V = body.version;
        if (V < d.base) return json(410, { code: 'version_gone', status: 410 });
        if (V > version) return json(422, { code: 'out_of_range', status: 422 });
        let pushed = body.updates.map((u) => ({ clientID: u.clientID, changes: ChangeSet.fromJSON(u.changes) }));
        let skipped = 0;
        for (const acc of d.updates.filter((u) => u.version > V)) {
          let a = ChangeSet.fromJSON(acc.changes);
          if (pushed.length && pushed[0].clientID === acc.clientID) {
            pushed = pushed.slice(1);
            skipped++;
            continue;
          }
          pushed = pushed.map((u) => {
            const mapped = u.changes.map(a);
            a = a.map(u.changes, true);
            return { clientID: u.clientID, changes: mapped };
          });
        }
        for (const u of pushed) {
          if (u.changes.length !== d.doc.length) return json(422, { code: 'out_of_range', status: 422 });
          d.doc = u.changes.apply(d.doc);
          const v = this.version(d) + 1;
          const rec = { version: v, clientID: u.clientID, changes: u.changes.toJSON() };
          d.updates.push(rec);
          await this.publish(p, path, 'update', who, { clientID: u.clientID, changes: rec.changes }, v);
        }
        return json(200, { version: this.version(d), accepted: pushed.length, skipped });
      }
      if (kind === '/cursor' && method === 'PUT') {
        const body = JSON.parse(req.postData() ?? '{}');
        const data = { ...body, user: who.login, name: who.name, color: who.color };
        d.cursors.set(who.login, data);
        await this.publish(p, path, 'cursor', who, data, body.version);
        return route.fulfill({ status: 204, body: '' });
      }
      return json(405, { code: 'method_not_allowed', status: 405 });
    }
  }

  close() {
    this.resp?.close();
  }

  /** The server's text of a file (what GET .../doc would answer). */
  text(p, path) {
    return this.docs.get(`${p}|${path}`)?.doc.toString();
  }

  static color(i) {
    return COLORS[i % COLORS.length];
  }
}

function sha(text) {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
