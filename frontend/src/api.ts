// The REST client: JSON in and out, application/problem+json errors turned
// into ApiError with the stable `code`. The session cookie travels by itself
// (same origin), so no token is kept in JavaScript.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: unknown = null,
  ) {
    super(detail || code || `HTTP ${status}`);
  }
}

/** A network failure (no answer at all), as opposed to an error answer. */
export class NetworkError extends Error {}

type Listener = () => void;
const unauthListeners: Listener[] = [];

/** Called when any request answers 401: the session is gone. */
export function onUnauthenticated(fn: Listener): void {
  unauthListeners.push(fn);
}

interface ProblemBody {
  code?: string;
  detail?: string;
  title?: string;
}

async function problemOf(res: Response): Promise<ApiError> {
  let body: unknown = null;
  let code = '';
  let detail = '';
  try {
    body = await res.json();
    const p = body as ProblemBody;
    code = p.code ?? '';
    detail = p.detail ?? p.title ?? '';
  } catch {
    detail = res.statusText;
  }
  return new ApiError(res.status, code || `http_${res.status}`, detail || `HTTP ${res.status}`, body);
}

export interface RequestOptions {
  body?: unknown;
  raw?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not fire the 401 listeners (the sign-in page probing /me). */
  quiet401?: boolean;
  /** Give up after this many milliseconds (a NetworkError). */
  timeoutMs?: number;
}

async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  let body: BodyInit | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  let signal = opts.signal;
  let timer: number | undefined;
  let timedOut = false;
  if (opts.timeoutMs) {
    const ctl = new AbortController();
    opts.signal?.addEventListener('abort', () => ctl.abort());
    timer = window.setTimeout(() => { timedOut = true; ctl.abort(); }, opts.timeoutMs);
    signal = ctl.signal;
  }
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body, credentials: 'same-origin', signal });
  } catch (e) {
    if (timedOut) throw new NetworkError(`no answer within ${opts.timeoutMs} ms`);
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new NetworkError(`network error: ${String(e)}`);
  } finally {
    window.clearTimeout(timer);
  }
  if (!res.ok) {
    const err = await problemOf(res);
    if (res.status === 401 && !opts.quiet401) unauthListeners.forEach((fn) => fn());
    throw err;
  }
  return res;
}

/** A JSON request; resolves with the parsed answer (undefined for 204). */
export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A request whose answer is text (file contents). */
export async function apiText(path: string, opts: RequestOptions = {}): Promise<{ text: string; res: Response }> {
  const res = await send('GET', path, opts);
  return { text: await res.text(), res };
}

/** Encodes a query string from defined values. */
export function qs(params: Record<string, string | number | boolean | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * Uploads a body with XMLHttpRequest so that progress can be shown
 * (fetch has no upload progress). Resolves with the parsed JSON answer.
 */
export function upload<T>(method: string, path: string, body: Blob, onProgress: (sent: number, total: number) => void,
  contentType = 'application/octet-stream'): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, `/api/v1${path}`);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : body.size);
    xhr.onerror = () => reject(new NetworkError('network error during upload'));
    xhr.onload = () => {
      let parsed: unknown = null;
      try { parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { parsed = null; }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(parsed as T);
        return;
      }
      const p = (parsed ?? {}) as ProblemBody;
      reject(new ApiError(xhr.status, p.code ?? `http_${xhr.status}`, p.detail ?? p.title ?? `HTTP ${xhr.status}`, parsed));
    };
    xhr.send(body);
  });
}

/** A readable one-line description of any error, for the page. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) return `${e.detail} (${e.code})`;
  if (e instanceof Error) return e.message;
  return String(e);
}
