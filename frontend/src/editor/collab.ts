// DESIGN: the live-editing client, to the letter of docs/protocol.md section 9.
//
// - One editor session = one fresh random clientID (a document reload makes a
//   new one too). The state carries @codemirror/collab's collab({startVersion,
//   clientID}).
// - Received updates (the project stream's `update` events, or the REST pull)
//   go into a map keyed by version and are applied strictly in version order,
//   ONE receiveUpdates(state, [update]) call per update: the server rebases
//   step by step, so batching would map differently and diverge. Versions at
//   or below the synced version are ignored (duplicates, our own echoes after
//   a pull). A hole in the versions triggers GET .../doc/updates?since=.
// - Pushing sends ALL sendableUpdates, from the first, with
//   getSyncedVersion(state). The server skips updates it has accepted before
//   (same clientID, in order), so re-pushing after a lost answer is safe.
//   Failed pushes are retried with backoff; edits made while offline simply
//   stay unconfirmed and go out with the next successful push. No new push is
//   started while an acknowledged one is not yet confirmed by its events.
// - Sync proof: when idle (nothing unconfirmed, nothing queued), the SHA-256
//   of the text is compared with GET .../doc/sum?version=; a mismatch reloads.
// - Cursors: our selection is mapped back to the synced version through the
//   inverse of the unconfirmed changes and sent (throttled) with PUT
//   .../doc/cursor. Remote cursors arrive at some version V and are mapped
//   forward through the updates applied since V, then through our unconfirmed
//   changes; from then on the cursor field maps them through every change.

import { ChangeSet, EditorState, Transaction, type Extension } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, highlightActiveLineGutter } from '@codemirror/view';
import { collab, getClientID, getSyncedVersion, receiveUpdates, sendableUpdates, type Update } from '@codemirror/collab';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { api, ApiError, NetworkError, qs, type RequestOptions } from '../api';
import { languageFor } from './lang';
import { remoteCursorHead, remoteCursors, removeRemoteCursor, safeColor, setRemoteCursor } from './cursors';
import { sha256Hex } from './sha256';

interface CursorRange {
  anchor: number;
  head: number;
}

export interface CursorData {
  version: number;
  ranges: CursorRange[];
  main: number;
  clientID: string;
  user?: string | number;
  /** Room cursors name the member instead of a user. */
  member?: string;
  name?: string;
  color?: string;
}

interface DocAnswer {
  path: string;
  version: number;
  text: string;
  sum: string;
  eol: string;
  cursors?: CursorData[];
}

interface PullAnswer {
  version: number;
  updates: { version: number; clientID: string; changes: unknown }[];
}

interface PushAnswer {
  version: number;
  accepted: number;
  skipped: number;
}

export type EditorStatus = 'loading' | 'synced' | 'sending' | 'retrying' | 'readonly' | 'unavailable' | 'closed';

/** Where a document's calls go: a project file, or a room's one document. */
export interface DocTarget {
  /** The API path of `GET doc` (kind ''), the updates, sum and cursor calls. */
  url: (kind: '' | '/updates' | '/sum' | '/cursor', path: string, extra?: Record<string, string | number | undefined>) => string;
  /** Extra request headers (a room member's X-Room-Member). */
  headers?: () => Record<string, string>;
  /** Text to show read-only when the server has no live-editing routes (null: none). */
  fallback?: (path: string) => Promise<string | null>;
}

/** The document calls of a project file (docs/protocol.md section 9). */
export function projectTarget(projectId: number): DocTarget {
  return {
    url: (kind, path, extra = {}) => `/projects/${projectId}/doc${kind}${qs({ path, ...extra })}`,
    fallback: async (path) => {
      const res = await fetch(`/api/v1/projects/${projectId}/file${qs({ path })}`, { credentials: 'same-origin' });
      return res.ok ? res.text() : null;
    },
  };
}

export interface CollabHost {
  target: DocTarget;
  canWrite: () => boolean;
  /** Something the indicator shows changed (unsent count, status). */
  changed: () => void;
  /** A message for the user (reload after divergence, lost file, ...). */
  message: (text: string) => void;
  /** A 401 from a document call: the host may sign in again (a room member rejoins). */
  authLost?: () => void;
}

const HISTORY_KEEP = 500;
/** A push or pull without an answer by then is treated as a network failure and retried. */
const REQUEST_TIMEOUT_MS = 15000;

export function newClientID(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(36).padStart(2, '0')).join('').slice(0, 20);
}

export class CollabEditor {
  readonly view: EditorView;
  readonly dom: HTMLElement;
  path: string;
  status: EditorStatus = 'loading';
  language = '';
  private loaded = false;
  private disposed = false;
  private received = new Map<number, Update>();
  private applied: { version: number; changes: ChangeSet }[] = [];
  private pendingCursors = new Map<string, CursorData>();
  private pulling = false;
  private pushing = false;
  private awaitVersion = 0;
  private pushFailures = 0;
  private pushTimer: number | undefined;
  private retryTimer: number | undefined;
  private catchupTimer: number | undefined;
  private sumTimer: number | undefined;
  private cursorTimer: number | undefined;
  private lastCursorSent = 0;
  private reloading = false;
  private readonlyReason = '';

  constructor(private readonly host: CollabHost, path: string) {
    this.path = path;
    this.dom = document.createElement('div');
    this.dom.className = 'editor';
    this.view = new EditorView({
      parent: this.dom,
      state: EditorState.create({ doc: 'Loading…', extensions: [EditorState.readOnly.of(true), EditorView.editable.of(false)] }),
      dispatchTransactions: (trs, view) => {
        view.update(trs);
        if (trs.some((t) => t.docChanged && !t.annotation(Transaction.remote))) this.schedulePush();
        if (trs.some((t) => t.selection || (t.docChanged && !t.annotation(Transaction.remote)))) this.scheduleCursor();
        this.host.changed();
      },
    });
  }

  /** Unconfirmed local updates (typed, not yet confirmed by the server). */
  unsent(): number {
    return this.loaded ? sendableUpdates(this.view.state).length : 0;
  }

  version(): number {
    return this.loaded ? getSyncedVersion(this.view.state) : 0;
  }

  clientID(): string {
    return this.loaded ? getClientID(this.view.state) : '';
  }

  text(): string {
    return this.view.state.doc.toString();
  }

  private url(kind: '' | '/updates' | '/sum' | '/cursor', extra: Record<string, string | number | undefined> = {}): string {
    return this.host.target.url(kind, this.path, extra);
  }

  private opts(more: RequestOptions = {}): RequestOptions {
    return { ...more, headers: { ...(this.host.target.headers?.() ?? {}), ...(more.headers ?? {}) }, quiet401: Boolean(this.host.authLost) };
  }

  private extensions(version: number, clientID: string): Extension[] {
    const lang = languageFor(this.path);
    this.language = lang.name;
    const writable = this.host.canWrite() && !this.readonlyReason;
    return [
      collab({ startVersion: version, clientID }),
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightActiveLine(),
      drawSelection(),
      history(),
      indentOnInput(),
      bracketMatching(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
      lang.ext,
      remoteCursors(),
      EditorState.readOnly.of(!writable),
      EditorView.contentAttributes.of({ 'aria-label': `Editor for ${this.path}` }),
    ];
  }

  /** Loads (or reloads) the document. Unconfirmed edits are lost on a reload. */
  async load(): Promise<void> {
    let doc: DocAnswer;
    try {
      doc = await api<DocAnswer>('GET', this.url(''), this.opts());
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'no_route' || e.code === 'binary_file')) {
        await this.loadStatic(e.code === 'binary_file' ? 'binary file: not editable live' : 'live editing is not available on this server');
        return;
      }
      throw e;
    }
    if (this.disposed) return;
    const clientID = newClientID();
    const state = EditorState.create({ doc: doc.text, extensions: this.extensions(doc.version, clientID) });
    this.view.setState(state);
    this.loaded = true;
    this.applied = [];
    this.awaitVersion = doc.version;
    this.status = this.host.canWrite() && !this.readonlyReason ? 'synced' : 'readonly';
    for (const [v] of this.received) if (v <= doc.version) this.received.delete(v);
    for (const c of doc.cursors ?? []) this.showCursor(c, true);
    // Live cursors that came while loading are newer than the stored ones; one from
    // before this version is placed as a stored one is (clamped, not mapped).
    for (const [key, c] of [...this.pendingCursors]) {
      if (c.version <= doc.version) {
        this.pendingCursors.delete(key);
        this.showCursor(c, true);
      }
    }
    this.drain();
    this.host.changed();
  }

  /** Fallback when the server has no live-editing routes: the file, read-only. */
  private async loadStatic(reason: string): Promise<void> {
    const text = (await this.host.target.fallback?.(this.path)) ?? '';
    this.readonlyReason = reason;
    const lang = languageFor(this.path);
    this.language = lang.name;
    this.view.setState(EditorState.create({
      doc: text,
      extensions: [lineNumbers(), syntaxHighlighting(defaultHighlightStyle), lang.ext, EditorState.readOnly.of(true),
        EditorView.contentAttributes.of({ 'aria-label': `Editor for ${this.path} (read-only)` })],
    }));
    this.status = 'unavailable';
    this.host.message(`${this.path}: ${reason}`);
    this.host.changed();
  }

  /** An `update` event for this file. */
  receive(version: number, clientID: string, changes: unknown): void {
    if (this.disposed || this.status === 'unavailable') return;
    if (this.loaded && version <= getSyncedVersion(this.view.state)) return;
    let cs: ChangeSet;
    try {
      cs = ChangeSet.fromJSON(changes);
    } catch {
      void this.reload('an update could not be read');
      return;
    }
    this.received.set(version, { changes: cs, clientID });
    if (this.loaded) this.drain();
  }

  /** Applies queued updates in version order, one receiveUpdates call each. */
  private drain(): void {
    if (!this.loaded || this.reloading) return;
    let v = getSyncedVersion(this.view.state);
    for (;;) {
      const u = this.received.get(v + 1);
      if (!u) break;
      this.received.delete(v + 1);
      if (u.changes.length !== this.syncedLength()) {
        void this.reload('the document diverged');
        return;
      }
      this.view.dispatch(receiveUpdates(this.view.state, [u]));
      v++;
      this.applied.push({ version: v, changes: u.changes });
      if (this.applied.length > HISTORY_KEEP) this.applied.splice(0, this.applied.length - HISTORY_KEEP);
    }
    for (const k of [...this.received.keys()]) if (k <= v) this.received.delete(k);
    if (this.received.size > 0) void this.pull();
    for (const [key, c] of [...this.pendingCursors]) {
      if (c.version <= v) {
        this.pendingCursors.delete(key);
        this.showCursor(c, false);
      }
    }
    this.afterProgress();
  }

  /** Length of the document at the synced version (current minus unconfirmed). */
  private syncedLength(): number {
    let len = this.view.state.doc.length;
    const ups = sendableUpdates(this.view.state);
    for (let i = ups.length - 1; i >= 0; i--) len = ups[i]!.changes.length;
    return len;
  }

  /** Pulls every update after the synced version (a hole, a reconnect, a late confirmation). */
  async pull(): Promise<void> {
    if (this.pulling || !this.loaded || this.disposed || this.status === 'unavailable') return;
    this.pulling = true;
    try {
      for (;;) {
        const since = getSyncedVersion(this.view.state);
        const r = await api<PullAnswer>('GET', this.url('/updates', { since }), this.opts({ timeoutMs: REQUEST_TIMEOUT_MS }));
        if (this.disposed) return;
        for (const u of r.updates) {
          if (u.version > since) this.received.set(u.version, { changes: ChangeSet.fromJSON(u.changes), clientID: u.clientID });
        }
        this.pulling = false;
        this.drain();
        this.pulling = true;
        if (r.updates.length < 1000 || getSyncedVersion(this.view.state) >= r.version) break;
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 410) {
        void this.reload('the server no longer has the versions this editor missed');
      } else if (e instanceof ApiError && e.status === 404) {
        this.host.message(`${this.path} no longer exists`);
      }
      // Otherwise a later event, reconnect or retry pulls again.
    } finally {
      this.pulling = false;
    }
  }

  private schedulePush(delay = 0): void {
    if (this.pushTimer !== undefined) return;
    this.pushTimer = window.setTimeout(() => {
      this.pushTimer = undefined;
      void this.push();
    }, delay);
  }

  /** Pushes all unconfirmed updates, from the first, at the synced version. */
  async push(): Promise<void> {
    if (this.pushing || !this.loaded || this.disposed || this.reloading) return;
    if (!this.host.canWrite() || this.readonlyReason) return;
    const ups = sendableUpdates(this.view.state);
    if (!ups.length) return;
    const version = getSyncedVersion(this.view.state);
    if (version < this.awaitVersion) {
      // The previous push was accepted but its events have not come back yet.
      this.scheduleCatchup();
      return;
    }
    this.pushing = true;
    this.status = 'sending';
    this.host.changed();
    try {
      const r = await api<PushAnswer>('POST', this.url('/updates'), this.opts({
        body: { version, updates: ups.map((u) => ({ clientID: u.clientID, changes: u.changes.toJSON() })) },
        timeoutMs: REQUEST_TIMEOUT_MS,
      }));
      this.pushFailures = 0;
      this.awaitVersion = Math.max(this.awaitVersion, r.version);
      this.status = 'synced';
      if (getSyncedVersion(this.view.state) < r.version) this.scheduleCatchup();
    } catch (e) {
      this.onPushError(e);
    } finally {
      this.pushing = false;
      this.host.changed();
    }
    this.afterProgress();
  }

  private onPushError(e: unknown): void {
    const authLost = e instanceof ApiError && e.status === 401 && this.host.authLost;
    if (authLost) this.host.authLost?.();
    const transient = authLost || e instanceof NetworkError || (e instanceof ApiError && (e.status >= 500 || e.status === 429 || e.status === 408));
    if (transient) {
      this.pushFailures++;
      this.status = 'retrying';
      const delay = Math.min(10000, 200 * 2 ** Math.min(this.pushFailures, 6)) * (0.75 + Math.random() / 2);
      window.clearTimeout(this.retryTimer);
      this.retryTimer = window.setTimeout(() => {
        // Catch up first: the push may have been accepted before its answer was lost.
        void this.pull().then(() => this.push());
      }, delay);
      return;
    }
    if (e instanceof ApiError && e.status === 403) {
      this.readonlyReason = 'you no longer have write access';
      this.status = 'readonly';
      this.host.message(`${this.path}: read-only (${e.detail})`);
      return;
    }
    if (e instanceof ApiError && e.status === 404) {
      this.status = 'unavailable';
      this.host.message(`${this.path} no longer exists`);
      return;
    }
    // 410 version_gone, 422 out_of_range / invalid_field, 409: start again from the server's text.
    void this.reload(`the server refused the edits (${e instanceof ApiError ? e.code : String(e)})`);
  }

  /** After an acknowledged push, make sure its confirmation arrives even without events. */
  private scheduleCatchup(): void {
    if (this.catchupTimer !== undefined) return;
    this.catchupTimer = window.setTimeout(() => {
      this.catchupTimer = undefined;
      if (this.loaded && getSyncedVersion(this.view.state) < this.awaitVersion) void this.pull();
    }, 400);
  }

  /** Called after any progress: push what is pending, or check the sync proof when idle. */
  private afterProgress(): void {
    if (!this.loaded || this.disposed) return;
    if (sendableUpdates(this.view.state).length && !this.pushing && getSyncedVersion(this.view.state) >= this.awaitVersion &&
      this.status !== 'retrying') {
      this.schedulePush();
    }
    window.clearTimeout(this.sumTimer);
    this.sumTimer = window.setTimeout(() => void this.proveSync(), 1500);
  }

  /** The sync proof: our text's SHA-256 against the server's at the synced version. */
  private async proveSync(): Promise<void> {
    if (!this.loaded || this.disposed || this.pushing || this.pulling || this.received.size) return;
    if (sendableUpdates(this.view.state).length) return;
    const version = getSyncedVersion(this.view.state);
    const mine = sha256Hex(this.view.state.doc.toString());
    try {
      const r = await api<{ version: number; sum: string }>('GET', this.url('/sum', { version }), this.opts());
      if (this.disposed || getSyncedVersion(this.view.state) !== version) return;
      if (r.sum !== (await mine)) await this.reload('the text differed from the server\'s');
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) void this.pull();
    }
  }

  /** Starts over from the server's document with a new client id. */
  async reload(why: string): Promise<void> {
    if (this.reloading || this.disposed) return;
    this.reloading = true;
    const lost = this.unsent();
    this.host.message(`${this.path}: reloaded because ${why}${lost ? ` (${lost} unsent edits dropped)` : ''}`);
    this.loaded = false;
    this.received.clear();
    try {
      await this.load();
    } finally {
      this.reloading = false;
    }
  }

  /** Called when the event stream is back or reset: catch up and resend. */
  resync(): void {
    if (!this.loaded) return;
    void this.pull().then(() => {
      this.pushFailures = 0;
      void this.push();
    });
  }

  /** The file was renamed: later updates carry the new path. */
  rename(path: string): void {
    this.path = path;
  }

  private scheduleCursor(): void {
    if (this.cursorTimer !== undefined || !this.loaded) return;
    const wait = Math.max(0, 250 - (Date.now() - this.lastCursorSent));
    this.cursorTimer = window.setTimeout(() => {
      this.cursorTimer = undefined;
      void this.sendCursor();
    }, wait);
  }

  private async sendCursor(): Promise<void> {
    if (!this.loaded || this.disposed || this.status === 'unavailable') return;
    this.lastCursorSent = Date.now();
    const state = this.view.state;
    const ups = sendableUpdates(state);
    const back = (pos: number): number => {
      for (let i = ups.length - 1; i >= 0; i--) pos = ups[i]!.changes.invertedDesc.mapPos(pos, -1);
      return pos;
    };
    const sel = state.selection;
    const body = {
      version: getSyncedVersion(state),
      ranges: sel.ranges.slice(0, 100).map((r) => ({ anchor: back(r.anchor), head: back(r.head) })),
      main: Math.min(sel.mainIndex, 99),
      clientID: getClientID(state),
    };
    try {
      await api<unknown>('PUT', this.url('/cursor'), this.opts({ body }));
    } catch {
      // A lost cursor is harmless: the next movement sends a new one.
    }
  }

  /** A `cursor` event (or a stored cursor from GET .../doc). */
  showCursor(c: CursorData, stored: boolean): void {
    if (this.disposed) return;
    const key = String(c.user ?? c.member ?? c.clientID);
    if (!this.loaded) {
      // Arrived while the document is loading: kept (the newest per user) and shown
      // once it is in, since the stored cursors in the answer may be older.
      if (!stored) this.pendingCursors.set(key, c);
      return;
    }
    if (c.clientID === getClientID(this.view.state)) return;
    const synced = getSyncedVersion(this.view.state);
    if (c.version > synced) {
      this.pendingCursors.set(key, c);
      return;
    }
    let map: (p: number) => number;
    const later = this.applied.filter((a) => a.version > c.version);
    if (synced - c.version > later.length) {
      if (!stored) return; // too old to place exactly
      map = (p) => p; // a stored cursor from long ago: clamped by the field
    } else {
      const ups = sendableUpdates(this.view.state);
      map = (p) => {
        for (const a of later) p = a.changes.mapPos(p, 1);
        for (const u of ups) p = u.changes.mapPos(p, 1);
        return p;
      };
    }
    const ranges = (Array.isArray(c.ranges) ? c.ranges : []).slice(0, 100)
      .filter((r) => Number.isInteger(r.anchor) && Number.isInteger(r.head))
      .map((r) => ({ anchor: map(r.anchor), head: map(r.head) }));
    if (!ranges.length) return;
    this.view.dispatch({
      effects: setRemoteCursor.of({ key, name: String(c.name ?? c.user ?? 'someone'), color: safeColor(c.color), ranges, main: c.main || 0 }),
    });
  }

  /** Scrolls a remote user's cursor into view (follow mode); false when not shown. */
  reveal(key: string): boolean {
    const pos = remoteCursorHead(this.view, key);
    if (pos === null) return false;
    this.view.dispatch({ effects: EditorView.scrollIntoView(pos, { y: 'center' }) });
    return true;
  }

  removeCursor(key: string): void {
    this.view.dispatch({ effects: removeRemoteCursor.of(key) });
  }

  dispose(): void {
    this.disposed = true;
    this.status = 'closed';
    for (const t of [this.pushTimer, this.retryTimer, this.catchupTimer, this.sumTimer, this.cursorTimer]) window.clearTimeout(t);
    this.view.destroy();
  }
}
