// A room (/room/<name>): anonymous shared editing of one text document
// (docs/rooms.md). Joining asks for a display name; the member id and secret
// from the join answer go in X-Room-Member on every member call. The roster
// and the document's updates and cursors arrive on the `room:<name>` stream.
// A member the server forgot (401 invalid_token, e.g. after a long sleep)
// joins again and carries on; unconfirmed edits survive that, since the
// editor keeps its client id.

import { api, ApiError, describe, qs } from '../api';
import { askText, field, h, notice, replace } from '../dom';
import { EventStream, type StreamState } from '../events';
import { title } from '../layout';
import type { Page } from '../router';
import type { CohortEvent } from '../types';
import { CollabEditor, type CursorData, type DocTarget } from '../editor/collab';
import { remoteCursorNames, safeColor } from '../editor/cursors';

const NAME_KEY = 'cohort.room.name';
const HEARTBEAT_MS = 15000;

interface Member {
  id: string;
  name: string;
  color: string;
}

interface JoinAnswer {
  member: Member;
  secret: string;
  members: Member[];
}

interface RoomInfo {
  room: string;
  version: number;
  members: Member[];
}

export function roomPage(main: HTMLElement, params: Record<string, string>): Page {
  const room = params.name ?? '';
  title(`Room ${room}`);
  const body = h('div');
  main.append(h('h1', null, 'Room ', h('span', { class: 'room-id' }, room)), body);
  if (!/^[a-z0-9_-]{1,64}$/.test(room)) {
    body.append(notice('Room names are 1 to 64 characters of a–z, 0–9, “_” and “-”.', 'error'));
    return {};
  }
  const base = `/rooms/${encodeURIComponent(room)}`;

  let me: Member | null = null;
  let secret = '';
  let myName = '';
  const members = new Map<string, Member>();
  let stream: EventStream | null = null;
  let editor: CollabEditor | null = null;
  let heartbeat: number | undefined;
  let disposed = false;
  let rejoining: Promise<void> | null = null;

  const messages = h('div', { class: 'messages', 'aria-live': 'polite' });
  const say = (text: string, kind: 'ok' | 'error' = 'ok'): void => {
    const n = notice(text, kind);
    messages.prepend(n);
    while (messages.childNodes.length > 3) messages.lastChild?.remove();
    window.setTimeout(() => n.remove(), 15000);
  };
  const memberHeader = (): Record<string, string> => (me ? { 'X-Room-Member': `${me.id}.${secret}` } : {});

  const roster = h('ul', { class: 'roster', 'aria-label': 'People in the room' });
  const renderRoster = (): void => {
    replace(roster, ...[...members.values()].map((m) => {
      const dot = h('span', { class: 'dot online', 'aria-hidden': 'true' });
      dot.style.backgroundColor = safeColor(m.color);
      return h('li', { 'data-member': m.id }, dot, h('span', { class: 'nick' }, m.name), m.id === me?.id ? ' (you)' : '');
    }));
  };

  const indicator = h('span', { class: 'indicator', role: 'status', 'data-testid': 'indicator', 'data-state': 'connecting' }, 'connecting…');
  const updateIndicator = (): void => {
    const unsent = editor?.unsent() ?? 0;
    let state: StreamState | 'connecting' = stream?.state ?? 'connecting';
    if (state === 'live' && editor?.status === 'retrying') state = 'reconnecting';
    const label = state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : state === 'reconnecting' ? 'reconnecting…' : 'offline';
    indicator.dataset.state = state;
    indicator.dataset.unsent = String(unsent);
    indicator.textContent = unsent > 0 && state !== 'live' ? `${label} — ${unsent} unsent edit${unsent === 1 ? '' : 's'}` : label;
  };

  const join = async (name: string): Promise<JoinAnswer> => {
    const r = await api<JoinAnswer>('POST', `${base}/members`, { body: { name }, quiet401: true });
    me = r.member;
    secret = r.secret;
    myName = r.member.name;
    members.clear();
    for (const m of r.members) members.set(m.id, m);
    members.set(r.member.id, r.member);
    renderRoster();
    return r;
  };

  /** The server forgot this member: join again under the same name. */
  const rejoin = (): Promise<void> => {
    rejoining ??= join(myName).then(() => {
      say('Rejoined the room.');
    }).catch((e: unknown) => {
      say(`Could not rejoin: ${describe(e)}`, 'error');
    }).finally(() => {
      rejoining = null;
    });
    return rejoining;
  };

  const refreshMembers = async (): Promise<void> => {
    try {
      const r = await api<RoomInfo>('GET', base, { quiet401: true });
      members.clear();
      for (const m of r.members) members.set(m.id, m);
      renderRoster();
    } catch { /* the next event or resync tries again */ }
  };

  const leave = (): void => {
    if (!me) return;
    // keepalive lets the request outlive the page.
    void fetch(`/api/v1${base}/members/${encodeURIComponent(me.id)}`, { method: 'DELETE', headers: memberHeader(), keepalive: true }).catch(() => undefined);
    me = null;
  };

  const enter = async (name: string): Promise<void> => {
    replace(body, h('p', { class: 'muted' }, 'Joining…'));
    try {
      await join(name);
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'no_route' || e.code === 'feature_disabled')) {
        replace(body, notice('Rooms are not available on this server (the room API is missing or rooms.enabled is off).', 'error'));
      } else {
        replace(body, notice(`Could not join: ${describe(e)}`, 'error'));
        prompt();
      }
      return;
    }
    if (disposed) { leave(); return; }
    localStorage.setItem(NAME_KEY, myName);

    const target: DocTarget = { url: (kind, _path, extra = {}) => `${base}/doc${kind}${qs(extra)}`, headers: memberHeader };
    editor = new CollabEditor({ target, canWrite: () => true, changed: updateIndicator, message: (t) => say(t, 'error'), authLost: () => void rejoin() }, 'room.txt');
    stream = new EventStream([`room:${room}`]);
    window.cohort = {
      project: 0,
      editors: () => (editor ? [{
        path: 'room.txt', text: editor.text(), version: editor.version(), unsent: editor.unsent(),
        status: editor.status, cursors: remoteCursorNames(editor.view),
      }] : []),
      stream: () => stream?.state ?? 'connecting',
    };
    stream.onState(updateIndicator);
    stream.on('update', (ev: CohortEvent) => {
      const d = ev.data as { clientID: string; changes: unknown };
      if (typeof ev.version === 'number') editor?.receive(ev.version, d.clientID, d.changes);
    });
    stream.on('cursor', (ev: CohortEvent) => editor?.showCursor(ev.data as CursorData, false));
    stream.on('member.join', (ev: CohortEvent) => { const m = ev.data as Member; members.set(m.id, m); renderRoster(); });
    stream.on('member.rename', (ev: CohortEvent) => { const m = ev.data as Member; members.set(m.id, m); renderRoster(); });
    stream.on('member.leave', (ev: CohortEvent) => {
      const m = ev.data as Member;
      members.delete(m.id);
      editor?.removeCursor(m.id);
      renderRoster();
    });
    stream.onResync(() => { void refreshMembers(); editor?.resync(); });

    heartbeat = window.setInterval(async () => {
      if (!me) return;
      try {
        await api('POST', `${base}/members/${encodeURIComponent(me.id)}/heartbeat`, { headers: memberHeader(), quiet401: true });
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) void rejoin();
      }
    }, HEARTBEAT_MS);

    const rename = h('button', {
      type: 'button',
      onclick: async () => {
        const name2 = await askText('Change your name', 'Your name in the room', myName, 'Change');
        if (!name2 || !me) return;
        try {
          const m = await api<Member>('PATCH', `${base}/members/${encodeURIComponent(me.id)}`, { body: { name: name2 }, headers: memberHeader(), quiet401: true });
          myName = m.name;
          me = { ...me, name: m.name };
          members.set(m.id, m);
          localStorage.setItem(NAME_KEY, myName);
          replace(youAre, 'You are ', h('strong', { 'data-testid': 'room-name' }, myName), ' in this room.');
          renderRoster();
        } catch (e) { say(describe(e), 'error'); }
      },
    }, 'Change name');
    const leaveBtn = h('button', {
      type: 'button',
      onclick: () => {
        window.clearInterval(heartbeat);
        stream?.close();
        editor?.dispose();
        stream = null;
        editor = null;
        leave();
        members.clear();
        replace(body);
        prompt();
      },
    }, 'Leave the room');
    const youAre = h('span', null, 'You are ', h('strong', { 'data-testid': 'room-name' }, myName), ' in this room.');
    replace(body,
      h('div', { class: 'ide-actions' }, indicator, youAre, rename, leaveBtn),
      messages,
      h('div', { class: 'room' },
        h('section', { class: 'editor-area', 'aria-label': 'Shared document' }, h('div', { class: 'editor-panel' }, editor.dom)),
        h('aside', { class: 'side', 'aria-labelledby': 'room-roster' }, h('h2', { id: 'room-roster' }, 'In the room'), roster)));
    try {
      await editor.load();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        await rejoin();
        await editor.load().catch((e2: unknown) => say(describe(e2), 'error'));
      } else {
        say(`Could not open the document: ${describe(e)}`, 'error');
      }
    }
    updateIndicator();
  };

  const prompt = (): void => {
    const [nameField, input] = field('Your name in the room', { name: 'name', required: true, maxlength: 40, autocomplete: 'nickname' });
    input.value = localStorage.getItem(NAME_KEY) ?? '';
    const form = h('form', { class: 'card narrow', 'aria-label': 'Enter the room' },
      h('p', null, 'Anyone with the link can edit this room’s document. Pick a name the others will see.'),
      nameField, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Enter')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (name) void enter(name);
    });
    body.append(form);
    input.focus();
  };

  prompt();
  window.addEventListener('pagehide', leave);
  return {
    dispose: () => {
      disposed = true;
      delete window.cohort;
      window.clearInterval(heartbeat);
      window.removeEventListener('pagehide', leave);
      stream?.close();
      editor?.dispose();
      leave();
    },
  };
}

