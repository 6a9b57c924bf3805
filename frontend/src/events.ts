// One Server-Sent Events connection to cohort-stream for the scopes a page
// follows (docs/protocol.md sections 2-5). The browser authenticates with the
// session cookie (same origin, section 2a).
//
// EventSource reconnects by itself after a dropped connection, sending
// Last-Event-ID. It gives up for good when a reconnect gets a non-200 answer
// (nginx answers 502 while cohort-stream is down), so this class then opens a
// new EventSource itself, with backoff, passing the last position it saw as
// `lastEventId`. Every time the connection is (re)established after a loss,
// and on a `reset` event, listeners get `resync`: they should pull what they
// derive from the stream (the document versions, the file tree).

import type { CohortEvent } from './types';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'offline';

type EventHandler = (ev: CohortEvent) => void;

export class EventStream {
  private es: EventSource | null = null;
  private lastId = '';
  private handlers = new Map<string, EventHandler[]>();
  private stateListeners: ((s: StreamState) => void)[] = [];
  private resyncListeners: (() => void)[] = [];
  private failures = 0;
  private timer: number | undefined;
  private wasLost = false;
  private closed = false;
  state: StreamState = 'connecting';

  /**
   * `extra` adds query parameters to the request, e.g. presence=<lesson> and
   * client=<session id> (cohort-stream then counts this connection as the
   * user being online in that lesson and adds the lesson's stream).
   */
  constructor(private readonly scopes: string[], private readonly extra: Record<string, string> = {}) {
    this.open();
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  on(type: string, fn: EventHandler): void {
    const list = this.handlers.get(type) ?? [];
    list.push(fn);
    this.handlers.set(type, list);
  }

  onState(fn: (s: StreamState) => void): void {
    this.stateListeners.push(fn);
    fn(this.state);
  }

  onResync(fn: () => void): void {
    this.resyncListeners.push(fn);
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.es?.close();
    this.es = null;
  }

  private onOnline = (): void => {
    if (this.state !== 'live' && !this.closed) {
      window.clearTimeout(this.timer);
      this.es?.close();
      this.open();
    }
  };

  /** The browser says the network is gone: say so at once, reconnect when it is back. */
  private onOffline = (): void => {
    if (this.closed) return;
    this.wasLost = true;
    window.clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
    this.setState('offline');
  };

  private setState(s: StreamState): void {
    if (s === this.state) return;
    this.state = s;
    this.stateListeners.forEach((fn) => fn(s));
  }

  private open(): void {
    const q = new URLSearchParams({ streams: this.scopes.join(','), ...this.extra });
    if (this.lastId) q.set('lastEventId', this.lastId);
    const es = new EventSource(`/stream/events?${q.toString()}`);
    this.es = es;
    es.onopen = () => {
      this.failures = 0;
      this.setState('live');
      if (this.wasLost) {
        this.wasLost = false;
        this.resyncListeners.forEach((fn) => fn());
      }
    };
    es.onmessage = (m: MessageEvent<string>) => {
      if (m.lastEventId) this.lastId = m.lastEventId;
      let ev: CohortEvent;
      try {
        ev = JSON.parse(m.data) as CohortEvent;
      } catch {
        return;
      }
      if (ev.type === 'reset') {
        this.resyncListeners.forEach((fn) => fn());
        return;
      }
      for (const fn of this.handlers.get(ev.type) ?? []) fn(ev);
      for (const fn of this.handlers.get('*') ?? []) fn(ev);
    };
    es.onerror = () => {
      if (this.closed) return;
      this.wasLost = true;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (an error answer): try again ourselves.
        this.failures++;
        this.setState(this.failures > 3 || !navigator.onLine ? 'offline' : 'reconnecting');
        const delay = Math.min(8000, 250 * 2 ** Math.min(this.failures, 5));
        this.timer = window.setTimeout(() => { if (!this.closed) this.open(); }, delay);
      } else {
        this.setState(navigator.onLine ? 'reconnecting' : 'offline');
      }
    };
  }
}
