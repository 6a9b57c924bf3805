// The IDE for one project: file tree, editor tabs with the collaborative
// editor, the projects I can open, who can open mine, sharing, the archive
// download and the connection indicator. Everything live arrives on one SSE
// connection following `project:<id>` and `user:<me>`.

import { api, ApiError, describe } from '../api';
import { h, notice, replace } from '../dom';
import { EventStream, type StreamState } from '../events';
import { title } from '../layout';
import { me } from '../session';
import { navigate, type Page } from '../router';
import type { AccessEntry, AccessListing, CohortEvent, FileEventData, ProjectWithAccess } from '../types';
import { CollabEditor, newClientID, projectTarget, type CursorData } from '../editor/collab';
import { remoteCursorNames } from '../editor/cursors';
import { FileTreeView } from './tree';
import { openShareDialog } from './share';

interface Tab {
  path: string;
  editor: CollabEditor;
  button: HTMLElement;
  label: HTMLElement;
}

interface UpdateData {
  clientID: string;
  changes: unknown;
}

/** A debugging and testing hook: the open editors' state. */
interface DebugHook {
  project: number;
  editors: () => { path: string; text: string; version: number; unsent: number; status: string; cursors: string[] }[];
  stream: () => StreamState;
}

declare global {
  interface Window {
    cohort?: DebugHook;
  }
}

export async function idePage(main: HTMLElement, params: Record<string, string>, query: URLSearchParams): Promise<Page | void> {
  let pw: ProjectWithAccess;
  try {
    pw = params.lesson
      ? await api<ProjectWithAccess>('GET', `/lessons/${Number(params.lesson)}/project`)
      : await api<ProjectWithAccess>('GET', `/projects/${Number(params.project)}`);
  } catch (e) {
    main.append(h('h1', null, 'Project'), notice(describe(e), 'error'));
    return;
  }
  const project = pw.project;
  let access = pw.access;
  const user = me();
  const isMine = user !== null && project.owner_user_id === user.id;
  title(`${project.owner_nickname} · project ${project.id}`);

  const messages = h('div', { class: 'messages', 'aria-live': 'polite' });
  const say = (text: string, kind: 'ok' | 'error' = 'ok'): void => {
    const n = notice(text, kind);
    messages.prepend(n);
    while (messages.childNodes.length > 3) messages.lastChild?.remove();
    window.setTimeout(() => n.remove(), 15000);
  };

  // Connection indicator.
  const indicator = h('span', { class: 'indicator', role: 'status', 'data-testid': 'indicator', 'data-state': 'connecting' }, 'connecting…');
  const tabs: Tab[] = [];
  let active: Tab | null = null;
  // presence=: this page makes its user "online" in the lesson (and follows the lesson's stream).
  const presenceClient = newClientID();
  const stream = new EventStream([`project:${project.id}`, ...(user ? [`user:${user.id}`] : [])],
    { presence: String(project.lesson_id), client: presenceClient });
  // Tell the lesson which file this page shows (PUT .../presence; needs the live connection above).
  // One report in flight at a time, and the newest place is the last one sent: two
  // PUTs in flight at once may be served in either order, and the lesson (and
  // anyone following this user) would be left with the older file.
  let placeSent = '';
  let placeBusy = false;
  const reportPlace = async (): Promise<void> => {
    if (placeBusy) return; // the loop below sends the newest place when its PUT is done
    placeBusy = true;
    try {
      for (;;) {
        const file = active?.path;
        const key = `${project.id}|${file ?? ''}`;
        if (stream.state !== 'live' || key === placeSent) return;
        placeSent = key;
        try {
          await api('PUT', `/lessons/${project.lesson_id}/presence`, { body: { client: presenceClient, project: project.id, ...(file ? { file } : {}) } });
        } catch {
          placeSent = ''; // retried on the next change or reconnect
          return;
        }
      }
    } finally {
      placeBusy = false;
    }
  };
  stream.onState((s) => { if (s === 'live') { placeSent = ''; void reportPlace(); } });
  const updateIndicator = (): void => {
    const unsent = tabs.reduce((n, t) => n + t.editor.unsent(), 0);
    const retrying = tabs.some((t) => t.editor.status === 'retrying');
    let state: string = stream.state;
    if (state === 'live' && retrying) state = 'reconnecting';
    const label = state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : state === 'reconnecting' ? 'reconnecting…' : 'offline';
    indicator.dataset.state = state;
    indicator.dataset.unsent = String(unsent);
    indicator.textContent = unsent > 0 && state !== 'live' ? `${label} — ${unsent} unsent edit${unsent === 1 ? '' : 's'}` : label;
    for (const t of tabs) t.label.textContent = `${t.path}${t.editor.unsent() ? ' •' : ''}`;
  };
  stream.onState(updateIndicator);

  // Editor tabs.
  const tabList = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Open files' });
  const panel = h('div', { role: 'tabpanel', class: 'editor-panel', id: 'editor-panel' },
    h('p', { class: 'muted empty' }, 'Open a file from the tree.'));
  const statusLine = h('div', { class: 'status-line', 'aria-live': 'polite' });

  const activate = (t: Tab | null): void => {
    active = t;
    void reportPlace();
    for (const x of tabs) {
      x.button.setAttribute('aria-selected', String(x === t));
      x.button.tabIndex = x === t ? 0 : -1;
    }
    if (t) {
      replace(panel, t.editor.dom);
      t.editor.view.requestMeasure();
      replace(statusLine, `${t.path} · ${t.editor.language || '…'}`, access.write ? '' : ' · read-only');
    } else {
      replace(panel, h('p', { class: 'muted empty' }, 'Open a file from the tree.'));
      replace(statusLine);
    }
  };

  const closeTab = (t: Tab): void => {
    const i = tabs.indexOf(t);
    if (i < 0) return;
    tabs.splice(i, 1);
    t.editor.dispose();
    t.button.parentElement?.remove();
    if (active === t) activate(tabs[Math.min(i, tabs.length - 1)] ?? null);
    updateIndicator();
  };

  const openFile = (path: string, focus = true): void => {
    const existing = tabs.find((t) => t.path === path);
    if (existing) {
      activate(existing);
      if (focus) existing.editor.view.focus();
      return;
    }
    const editor = new CollabEditor({
      target: projectTarget(project.id),
      canWrite: () => access.write,
      changed: updateIndicator,
      message: (text) => say(text, 'error'),
    }, path);
    const label = h('span', null, path);
    const button = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-controls': 'editor-panel', 'data-path': path }, label);
    const close = h('button', { type: 'button', class: 'tab-close', 'aria-label': `Close ${path}` }, '×');
    const tab: Tab = { path, editor, button, label };
    button.addEventListener('click', () => activate(tab));
    button.addEventListener('keydown', (ev) => {
      const i = tabs.indexOf(tab);
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        const next = tabs[(i + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
        if (next) { activate(next); next.button.focus(); }
      }
    });
    close.addEventListener('click', () => closeTab(tab));
    tabList.append(h('span', { class: 'tab-wrap' }, button, close));
    tabs.push(tab);
    activate(tab);
    editor.load().then(() => {
      if (active === tab) activate(tab);
      if (following !== null) editor.reveal(String(following));
      if (focus) editor.view.focus();
    }).catch((e: unknown) => {
      say(`Could not open ${path}: ${describe(e)}`, 'error');
      closeTab(tab);
    });
  };

  const tree = new FileTreeView({
    projectId: project.id,
    canWrite: () => access.write,
    open: (path) => openFile(path),
    error: (text) => say(text, 'error'),
  });

  // Follow mode: switch to the file the followed user's cursor is in and keep it in view.
  let following: number | null = query.get('follow') ? Number(query.get('follow')) : null;
  /** Goes where the followed user is: their project (a new page, still following) and file. */
  const goTo = (place: { project?: number | null; file?: string | null }): void => {
    if (following === null || !place.project) return;
    if (place.project !== project.id) {
      navigate(`/projects/${place.project}?follow=${following}`);
      return;
    }
    if (place.file && tree.entry(place.file)) openFile(place.file, false);
  };
  /** The followed user's newest place from the lesson's roster. */
  const findFollowed = async (): Promise<void> => {
    if (following === null) return;
    try {
      const r = await api<{ participants: { user: number; online: boolean; sessions: Record<string, { project?: number; file?: string; at?: number }> }[] }>(
        'GET', `/lessons/${project.lesson_id}/presence`);
      const p = r.participants.find((x) => x.user === following);
      const s = p && p.online ? Object.values(p.sessions ?? {}).sort((a, b) => (b.at ?? 0) - (a.at ?? 0))[0] : undefined;
      if (s) goTo(s);
    } catch { /* the cursor events still lead */ }
  };
  const followSelect = h('select', { id: 'follow-select' }, h('option', { value: '' }, 'nobody'));
  followSelect.addEventListener('change', () => {
    following = followSelect.value ? Number(followSelect.value) : null;
    if (following !== null) {
      const name = followSelect.selectedOptions[0]?.textContent ?? '';
      say(`Following ${name}: the editor goes where they go.`);
      for (const t of tabs) if (t.editor.reveal(String(following))) { activate(t); break; }
      void findFollowed();
    }
  });
  const fillFollow = (people: { user_id: number; nickname: string }[]): void => {
    const seen = new Set<number>();
    const opts = [h('option', { value: '' }, 'nobody')];
    for (const p of people) {
      if (seen.has(p.user_id) || p.user_id === user?.id) continue;
      seen.add(p.user_id);
      opts.push(h('option', { value: String(p.user_id), selected: p.user_id === following }, p.nickname));
    }
    replace(followSelect, ...opts);
  };

  // Who can open what.
  const canOpen = h('ul', { class: 'people', 'aria-label': 'Projects I can open' });
  const canOpenMine = h('ul', { class: 'people', 'aria-label': 'Who can open my project' });
  let myParticipant = 0;
  const entryLine = (a: AccessEntry, link: boolean): HTMLElement => h('li', { 'data-participant': a.participant_id },
    link && a.project_id !== null
      ? h('a', { href: `/projects/${a.project_id}`, 'data-link': true }, a.nickname)
      : h('span', null, a.nickname),
    ' ', h('span', { class: `badge ${a.role}` }, a.role),
    h('span', { class: 'muted' }, ` ${a.write ? 'read + write' : 'read'}${a.explicit_grant ? ' (grant)' : ''}${link && a.project_id === null ? ' · not started yet' : ''}`));
  const loadAccess = async (): Promise<void> => {
    try {
      const l = await api<AccessListing>('GET', `/lessons/${project.lesson_id}/access`);
      myParticipant = l.me.id;
      const mine = l.me;
      title(`${l.lesson.name} · ${project.owner_nickname}`);
      replace(heading, l.lesson.name, h('span', { class: 'muted' }, ` — ${isMine ? 'my project' : `${project.owner_nickname}’s project`}`));
      const own = h('li', null, h('a', { href: `/lessons/${project.lesson_id}`, 'data-link': true }, `${mine.nickname} (me)`));
      replace(canOpen, own, ...l.can_open.map((a) => entryLine(a, true)));
      fillFollow([{ user_id: project.owner_user_id, nickname: project.owner_nickname }, ...l.can_open_mine, ...l.can_open]);
      replace(canOpenMine, ...(l.can_open_mine.length ? l.can_open_mine.map((a) => entryLine(a, false)) : [h('li', { class: 'muted' }, 'Nobody else.')]));
    } catch (e) {
      replace(canOpen, h('li', null, notice(describe(e), 'error')));
    }
  };

  const reloadProjectAccess = async (): Promise<void> => {
    try {
      const r = await api<ProjectWithAccess>('GET', `/projects/${project.id}`);
      const wasWrite = access.write;
      access = r.access;
      if (wasWrite !== access.write) {
        say(access.write ? 'You can now edit this project.' : 'This project is now read-only for you.');
        for (const t of [...tabs]) { const p = t.path; closeTab(t); openFile(p); }
        void tree.refresh();
      }
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
        access = { read: false, write: false };
        for (const t of [...tabs]) closeTab(t);
        replace(workspace, notice('Your access to this project was revoked.', 'error'));
        stream.close();
      }
    }
  };

  // Live events.
  const editorFor = (path: string | undefined): CollabEditor | undefined => tabs.find((t) => t.path === path)?.editor;
  stream.on('update', (ev: CohortEvent) => {
    const d = ev.data as UpdateData;
    if (typeof ev.version === 'number') editorFor(ev.file)?.receive(ev.version, d.clientID, d.changes);
  });
  stream.on('cursor', (ev: CohortEvent) => {
    const d = ev.data as CursorData;
    const followed = following !== null && Number(d.user) === following && typeof ev.file === 'string';
    if (followed && ev.file && !editorFor(ev.file)) {
      // Follow mode: open the file the followed user is in; its stored cursors come with it.
      openFile(ev.file, false);
      return;
    }
    const ed = editorFor(ev.file);
    ed?.showCursor(d, false);
    if (followed && ed) {
      const tab = tabs.find((t) => t.editor === ed);
      if (tab && active !== tab) activate(tab);
      ed.reveal(String(following));
    }
  });
  stream.on('file', (ev: CohortEvent) => {
    tree.refreshSoon();
    const d = ev.data as FileEventData;
    if (d.action === 'renamed' && d.from) {
      for (const t of tabs) {
        let np: string | null = null;
        if (t.path === d.from) np = d.path;
        else if (t.path.startsWith(`${d.from}/`)) np = d.path + t.path.slice(d.from.length);
        if (np) {
          t.path = np;
          t.editor.rename(np);
          t.button.dataset.path = np;
          if (active === t) activate(t);
        }
      }
      updateIndicator();
    } else if (d.action === 'deleted') {
      for (const t of [...tabs]) {
        if (t.path === d.path || t.path.startsWith(`${d.path}/`)) {
          say(`${t.path} was deleted.`, 'error');
          closeTab(t);
        }
      }
    } else if (d.action === 'updated' && d.kind === 'file') {
      // A whole-file write is an update too; the editor pulls it.
      editorFor(d.path)?.resync();
    }
  });
  stream.on('presence', (ev: CohortEvent) => {
    const d = ev.data as { user: number; state: string; project: number | null; file: string | null };
    if (following !== null && d.user === following && d.state !== 'offline') goTo(d);
  });
  stream.on('grant', (ev: CohortEvent) => {
    void loadAccess();
    const d = ev.data as { project_id?: number; grantee?: { user_id?: number } };
    if (user && d.grantee?.user_id === user.id && Number(d.project_id) === project.id) void reloadProjectAccess();
  });
  // cohort-stream drops a scope the user may no longer follow with a `revoked` notice.
  stream.on('revoked', (ev: CohortEvent) => {
    if (ev.stream === `project:${project.id}`) void reloadProjectAccess();
    else void loadAccess();
  });
  stream.on('granted', () => void loadAccess());
  stream.onResync(() => {
    void tree.refresh();
    for (const t of tabs) t.editor.resync();
  });

  // Layout.
  const heading = h('h1', null, `Project ${project.id}`);
  const actions = h('div', { class: 'ide-actions' },
    indicator,
    h('a', { href: `/api/v1/projects/${project.id}/archive?format=zip`, download: `project-${project.id}.zip`, class: 'button' }, 'Download .zip'),
    h('a', { href: `/api/v1/projects/${project.id}/archive?format=tar.gz`, download: `project-${project.id}.tar.gz`, class: 'button' }, 'Download .tar.gz'),
    isMine ? h('button', { type: 'button', onclick: () => void openShareDialog(project.id, project.course_id, myParticipant, () => void loadAccess()) }, 'Share…') : null,
    h('label', { for: 'follow-select', class: 'follow' }, 'Follow '), followSelect);
  const people = h('aside', { class: 'side', 'aria-label': 'Projects and access' },
    h('h2', null, 'Projects I can open'), canOpen,
    h('h2', null, 'Who can open my project'), canOpenMine);
  const workspace = h('div', { class: 'ide' }, tree.dom,
    h('section', { class: 'editor-area', 'aria-label': 'Editor' }, tabList, panel, statusLine), people);
  main.classList.add('wide');
  main.append(h('p', { class: 'crumbs' }, h('a', { href: '/', 'data-link': true }, 'My courses'), ' / ',
    h('a', { href: `/courses/${project.course_id}`, 'data-link': true }, 'Course'), ' / '),
  heading, actions, messages, workspace);

  window.cohort = {
    project: project.id,
    editors: () => tabs.map((t) => ({
      path: t.path, text: t.editor.text(), version: t.editor.version(), unsent: t.editor.unsent(),
      status: t.editor.status, cursors: remoteCursorNames(t.editor.view),
    })),
    stream: () => stream.state,
  };
  const onBeforeUnload = (ev: BeforeUnloadEvent): void => {
    if (tabs.some((t) => t.editor.unsent() > 0)) ev.preventDefault();
  };
  window.addEventListener('beforeunload', onBeforeUnload);

  await Promise.all([tree.refresh(), loadAccess()]);
  if (following !== null) {
    say('Following: the editor goes where they go.');
    void findFollowed();
  }
  return {
    dispose: () => {
      stream.close();
      for (const t of [...tabs]) t.editor.dispose();
      window.removeEventListener('beforeunload', onBeforeUnload);
      main.classList.remove('wide');
      delete window.cohort;
    },
  };
}
