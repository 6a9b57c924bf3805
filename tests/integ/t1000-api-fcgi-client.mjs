// A small FastCGI client (responder role, one request at a time per
// connection, keep-alive optional) for tests that talk to cohort-api without
// a web server in between: listeners, connection reuse, shutdown.
// Not a test itself (no .test.mjs suffix); imported by t1xxx-api tests.
import net from 'node:net';

const VERSION = 1;
const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;
const STDERR = 7;
const RESPONDER = 1;
const KEEP_CONN = 1;

function record(type, id, content = Buffer.alloc(0)) {
  const pad = (8 - (content.length % 8)) % 8;
  const h = Buffer.alloc(8);
  h.writeUInt8(VERSION, 0);
  h.writeUInt8(type, 1);
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(content.length, 4);
  h.writeUInt8(pad, 6);
  return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

function nvLength(n) {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0);
  return b;
}

function encodeParams(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    const kb = Buffer.from(k);
    const vb = Buffer.from(String(v));
    parts.push(nvLength(kb.length), nvLength(vb.length), kb, vb);
  }
  return Buffer.concat(parts);
}

/** Splits data into records of at most 65535 bytes (plus the empty end record). */
function stream(type, id, data) {
  const out = [];
  for (let i = 0; i < data.length; i += 65535) out.push(record(type, id, data.subarray(i, i + 65535)));
  out.push(record(type, id));
  return out;
}

/** Parses a CGI response: "Status: 200 OK\r\nName: value\r\n\r\nbody". */
export function parseCgi(buf) {
  const sep = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, sep < 0 ? buf.length : sep).toString('latin1');
  const body = sep < 0 ? Buffer.alloc(0) : buf.subarray(sep + 4);
  const headers = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const status = Number((headers.status || '200').split(' ')[0]);
  return { status, headers, body: body.toString('utf8'), raw: body, json: () => JSON.parse(body.toString('utf8')) };
}

export class FcgiConn {
  /** target: {path} for a unix socket or {host, port} for TCP. */
  static connect(target) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(target);
      sock.once('connect', () => resolve(new FcgiConn(sock)));
      sock.once('error', reject);
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.pending = null;
    this.closedPromise = new Promise((resolve) => sock.once('close', () => { this.closed = true; resolve(); }));
    sock.on('error', () => {}); // surfaced through 'close' and the pending request
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
    sock.on('close', () => {
      if (this.pending) this.pending.reject(new Error('connection closed before the response ended'));
      this.pending = null;
    });
  }

  parse() {
    while (this.buf.length >= 8) {
      const type = this.buf.readUInt8(1);
      const len = this.buf.readUInt16BE(4);
      const pad = this.buf.readUInt8(6);
      if (this.buf.length < 8 + len + pad) return;
      const content = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len + pad);
      const p = this.pending;
      if (!p) continue;
      if (type === STDOUT) p.out.push(Buffer.from(content));
      else if (type === STDERR) p.err.push(Buffer.from(content));
      else if (type === END_REQUEST) {
        this.pending = null;
        const r = parseCgi(Buffer.concat(p.out));
        r.appStatus = content.readUInt32BE(0);
        r.protocolStatus = content.readUInt8(4);
        r.stderr = Buffer.concat(p.err).toString();
        p.resolve(r);
      }
    }
  }

  /**
   * Sends one request and resolves with {status, headers, body, json()} when
   * the server ends it. opts: method, uri, headers {name: value} (sent as
   * HTTP_*), contentType, body (string|Buffer), params (extra raw params),
   * keepConn (default true), omitContentLength.
   */
  request(opts = {}) {
    if (this.pending) throw new Error('one request at a time');
    const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
    const params = {
      REQUEST_METHOD: opts.method || 'GET',
      REQUEST_URI: opts.uri || '/api/v1/health',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      ...(opts.contentType ? { CONTENT_TYPE: opts.contentType } : {}),
      ...(opts.omitContentLength ? {} : { CONTENT_LENGTH: String(body.length) }),
      ...Object.fromEntries(Object.entries(opts.headers || {}).map(([k, v]) => [`HTTP_${k.toUpperCase().replaceAll('-', '_')}`, v])),
      ...(opts.params || {}),
    };
    const id = 1;
    const begin = Buffer.alloc(8);
    begin.writeUInt16BE(RESPONDER, 0);
    begin.writeUInt8(opts.keepConn === false ? 0 : KEEP_CONN, 2);
    const p = new Promise((resolve, reject) => { this.pending = { resolve, reject, out: [], err: [] }; });
    const chunks = [record(BEGIN_REQUEST, id, begin), ...stream(PARAMS, id, encodeParams(params)), ...stream(STDIN, id, body)];
    this.sock.write(Buffer.concat(chunks));
    return p;
  }

  close() {
    this.sock.end();
    return this.closedPromise;
  }
}

/** One request on a fresh connection that is closed afterwards. */
export async function fcgiOnce(target, opts = {}) {
  const conn = await FcgiConn.connect(target);
  try {
    return await conn.request({ ...opts, keepConn: false });
  } finally {
    conn.sock.destroy();
  }
}
