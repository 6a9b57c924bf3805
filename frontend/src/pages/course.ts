// A course: lessons in order (teachers create, rename, reorder, delete and
// upload templates), the join code for teachers, and the roster.

import { api, describe, upload } from '../api';
import { askText, confirmBox, field, h, notice, replace } from '../dom';
import { title } from '../layout';
import { EventStream } from '../events';
import type { Page } from '../router';
import type { CohortEvent, CourseWithMe, Lesson, Participant } from '../types';

interface RosterEntry {
  participant: number;
  user: number;
  nickname: string;
  online: boolean;
  sessions: Record<string, { project?: number; file?: string; at?: number }>;
}

interface PresenceData {
  user: number;
  login: string | null;
  name: string | null;
  state: 'online' | 'moved' | 'offline';
  client: string | null;
  project: number | null;
  file: string | null;
}

export async function coursePage(main: HTMLElement, params: Record<string, string>): Promise<Page | void> {
  const id = Number(params.id);
  const status = h('div', { 'aria-live': 'polite' });
  let info: CourseWithMe;
  try {
    info = await api<CourseWithMe>('GET', `/courses/${id}`);
  } catch (e) {
    main.append(h('h1', null, 'Course'), notice(describe(e), 'error'));
    return;
  }
  title(info.course.name);
  const teacher = info.me?.role === 'teacher';
  const say = (text: string, kind: 'ok' | 'error' = 'ok'): void => replace(status, notice(text, kind));

  const lessonList = h('ol', { class: 'lessons', 'aria-label': 'Lessons' });
  let lessons: Lesson[] = [];

  const reorder = async (from: number, to: number): Promise<void> => {
    const ids = lessons.map((l) => l.id);
    const [moved] = ids.splice(from, 1);
    if (moved === undefined) return;
    ids.splice(to, 0, moved);
    try {
      await api('PUT', `/courses/${id}/lessons/order`, { body: { ids } });
      await loadLessons();
    } catch (e) {
      say(`Could not reorder: ${describe(e)}`, 'error');
    }
  };

  const templateControls = (l: Lesson): HTMLElement => {
    const fileId = `tpl-${l.id}`;
    const input = h('input', { type: 'file', id: fileId, accept: '.zip,.tar,.tar.gz,.tgz,.tar.xz,.txz' });
    const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': `Upload progress for ${l.name}` });
    const btn = h('button', { type: 'button', 'aria-label': `Upload the template for ${l.name}` }, 'Upload template');
    btn.addEventListener('click', async () => {
      const f = input.files?.[0];
      if (!f) {
        say('Choose an archive first.', 'error');
        return;
      }
      progress.hidden = false;
      progress.value = 0;
      try {
        await upload(`PUT`, `/lessons/${l.id}/template`, f, (sent, total) => {
          progress.value = total ? Math.round((sent / total) * 100) : 0;
        });
        progress.value = 100;
        hasTemplate.textContent = ' (has a template)';
        say(`Template for ${l.name} uploaded.`);
      } catch (e) {
        say(`Template upload failed: ${describe(e)}`, 'error');
      }
    });
    const hasTemplate = h('span', { class: 'muted' }, l.template_ref ? ' (has a template)' : '');
    return h('div', { class: 'template' }, h('label', { for: fileId }, `Template archive for ${l.name}`), input, btn, progress, hasTemplate);
  };

  const renderLessons = (): void => {
    if (!lessons.length) {
      replace(lessonList, h('li', { class: 'empty' }, 'No lessons yet.'));
      return;
    }
    replace(lessonList, ...lessons.map((l, i) => {
      const row = h('li', { class: 'lesson', 'data-lesson': l.id },
        h('a', { href: `/lessons/${l.id}`, 'data-link': true, class: 'title' }, l.name),
        l.description ? h('span', { class: 'muted' }, ` — ${l.description}`) : null);
      if (teacher) {
        row.append(h('div', { class: 'row-actions' },
          h('button', {
            type: 'button', 'aria-label': `Rename ${l.name}`,
            onclick: async () => {
              const name = await askText('Rename lesson', 'Lesson name', l.name, 'Rename');
              if (!name) return;
              try {
                await api('PATCH', `/lessons/${l.id}`, { body: { name } });
                await loadLessons();
              } catch (e) { say(`Could not rename: ${describe(e)}`, 'error'); }
            },
          }, 'Rename'),
          h('button', { type: 'button', 'aria-label': `Move ${l.name} up`, disabled: i === 0, onclick: () => void reorder(i, i - 1) }, 'Up'),
          h('button', { type: 'button', 'aria-label': `Move ${l.name} down`, disabled: i === lessons.length - 1, onclick: () => void reorder(i, i + 1) }, 'Down'),
          h('button', {
            type: 'button', class: 'danger', 'aria-label': `Delete ${l.name}`,
            onclick: async () => {
              if (!(await confirmBox(`Delete the lesson “${l.name}” and every project in it?`))) return;
              try {
                await api('DELETE', `/lessons/${l.id}`);
                await loadLessons();
              } catch (e) { say(`Could not delete: ${describe(e)}`, 'error'); }
            },
          }, 'Delete')),
        templateControls(l));
      }
      return row;
    }));
  };

  const loadLessons = async (): Promise<void> => {
    try {
      lessons = (await api<{ lessons: Lesson[] }>('GET', `/courses/${id}/lessons`)).lessons.sort((a, b) => a.position - b.position);
      renderLessons();
    } catch (e) {
      replace(lessonList, h('li', null, notice(describe(e), 'error')));
    }
  };

  // Presence as seen since this page opened: nickname -> lesson id -> where.
  const online = new Map<string, Map<number, PresenceData>>();
  let participants: Participant[] = [];
  const roster = h('ul', { class: 'roster', 'aria-label': 'Participants' });
  const renderRoster = (): void => {
    replace(roster, ...participants.map((p) => {
      const where = online.get(p.nickname);
      const on = Boolean(where && where.size);
      const places = on && where ? [...where.entries()].map(([lid, d]) => {
        const lesson = lessons.find((l) => l.id === lid);
        return `${lesson ? lesson.name : `lesson ${lid}`}${d.file ? ` · ${d.file}` : ''}`;
      }) : [];
      return h('li', { 'data-participant': p.id, 'data-online': String(on) },
        h('span', { class: `dot ${on ? 'online' : ''}`, 'aria-hidden': 'true' }),
        h('span', { class: 'nick' }, p.nickname),
        ' ', h('span', { class: `badge ${p.role}` }, p.role),
        p.login ? h('span', { class: 'muted' }, ` (${p.login})`) : null,
        h('span', { class: 'visually-hidden' }, on ? ' online' : ' not seen online'),
        places.length ? h('span', { class: 'where muted' }, ` — in ${places.join(', ')}`) : null);
    }));
  };
  const loadRoster = async (): Promise<void> => {
    try {
      participants = (await api<{ participants: Participant[] }>('GET', `/courses/${id}/participants`)).participants;
      renderRoster();
    } catch (e) {
      replace(roster, h('li', null, notice(describe(e), 'error')));
    }
  };
  /** The lessons' rosters (GET .../presence): who is online now, and where. */
  const loadPresence = async (): Promise<void> => {
    await Promise.all(lessons.slice(0, 16).map(async (l) => {
      try {
        const r = await api<{ participants: RosterEntry[] }>('GET', `/lessons/${l.id}/presence`);
        for (const p of r.participants) {
          const where = online.get(p.nickname) ?? new Map<number, PresenceData>();
          if (p.online) {
            const s = Object.entries(p.sessions ?? {}).sort((a, b) => (b[1].at ?? 0) - (a[1].at ?? 0))[0];
            where.set(l.id, { user: p.user, login: null, name: p.nickname, state: 'online', client: s?.[0] ?? null,
              project: s?.[1].project || null, file: s?.[1].file || null });
          } else {
            where.delete(l.id);
          }
          online.set(p.nickname, where);
        }
      } catch { /* a server without the roster call: events only */ }
    }));
    renderRoster();
  };
  const onPresence = (ev: CohortEvent): void => {
    const d = ev.data as PresenceData;
    const lid = Number(ev.stream.split(':')[1]);
    const key = d.name ?? d.login ?? String(d.user);
    const where = online.get(key) ?? new Map<number, PresenceData>();
    if (d.state === 'offline') where.delete(lid);
    else if (d.state === 'online' && where.get(lid)?.file && !d.file) { /* keep the known place */ }
    else where.set(lid, d);
    online.set(key, where);
    renderRoster();
  };

  main.append(h('p', { class: 'crumbs' }, h('a', { href: '/', 'data-link': true }, 'My courses'), ' / '),
    h('h1', null, info.course.name));
  if (info.course.description) main.append(h('p', null, info.course.description));
  main.append(status);

  const lessonsSection = h('section', { 'aria-labelledby': 'lessons-h' }, h('h2', { id: 'lessons-h' }, 'Lessons'), lessonList);
  if (teacher) {
    const [nameField, name] = field('New lesson name', { name: 'name', required: true, maxlength: 200 });
    const form = h('form', { class: 'inline', 'aria-label': 'Create a lesson' }, nameField, h('button', { type: 'submit' }, 'Add lesson'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `/courses/${id}/lessons`, { body: { name: name.value.trim() } });
        form.reset();
        await loadLessons();
      } catch (e) { say(`Could not create the lesson: ${describe(e)}`, 'error'); }
    });
    lessonsSection.append(form);
  }
  main.append(lessonsSection);

  if (teacher) {
    const codeOut = h('span', { 'aria-live': 'polite' });
    main.append(h('section', { 'aria-labelledby': 'code-h' }, h('h2', { id: 'code-h' }, 'Join code'),
      h('p', { class: 'muted' }, 'Only a hash of the code is stored: make a new one to show it (the old one stops working).'),
      h('button', {
        type: 'button',
        onclick: async () => {
          try {
            const r = await api<{ join_code: string }>('POST', `/courses/${id}/join-code`);
            replace(codeOut, 'New join code: ', h('code', { 'data-testid': 'join-code' }, r.join_code));
          } catch (e) { say(describe(e), 'error'); }
        },
      }, 'Make a new join code'), ' ', codeOut));
  }

  main.append(h('section', { 'aria-labelledby': 'roster-h' }, h('h2', { id: 'roster-h' }, 'Roster'),
    h('p', { class: 'muted' }, 'Green: online, with the lesson and file they are in.'), roster));
  await Promise.all([loadLessons(), loadRoster()]);
  // The lessons' streams carry presence events (at most 16 streams per connection).
  const stream = lessons.length ? new EventStream(lessons.slice(0, 16).map((l) => `lesson:${l.id}`)) : null;
  stream?.on('presence', onPresence);
  stream?.onResync(() => void loadPresence());
  await loadPresence();
  return { dispose: () => stream?.close() };
}
