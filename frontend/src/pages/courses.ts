// My courses: the list, joining with a code, and creating a course.

import { api, describe } from '../api';
import { field, h, notice, replace } from '../dom';
import { title } from '../layout';
import type { CourseCreated, CourseWithMe } from '../types';

export async function coursesPage(main: HTMLElement): Promise<void> {
  title('My courses');
  const list = h('ul', { class: 'cards', 'aria-label': 'My courses' });
  const status = h('div', { 'aria-live': 'polite' });

  const load = async (): Promise<void> => {
    try {
      const r = await api<{ courses: CourseWithMe[] }>('GET', '/courses');
      if (!r.courses.length) {
        replace(list, h('li', { class: 'empty' }, 'You are not in any course yet.'));
        return;
      }
      replace(list, ...r.courses.map((c) => h('li', { class: 'card' },
        h('a', { href: `/courses/${c.course.id}`, 'data-link': true, class: 'title' }, c.course.name),
        h('span', { class: `badge ${c.me?.role ?? ''}` }, c.me ? c.me.role : 'admin'),
        c.me ? h('span', { class: 'muted' }, ` as ${c.me.nickname}`) : null,
        c.course.description ? h('p', { class: 'muted' }, c.course.description) : null)));
    } catch (e) {
      replace(list, h('li', null, notice(describe(e), 'error')));
    }
  };

  const [codeField, code] = field('Join code', { name: 'code', required: true, autocomplete: 'off', placeholder: 'abcd-efgh-ijkl' });
  const [nickField, nick] = field('Nickname in the course', { name: 'nickname', required: true, maxlength: 64 });
  const join = h('form', { class: 'card', 'aria-label': 'Join a course' }, h('h2', null, 'Join a course'), codeField, nickField,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Join')));
  join.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    try {
      const r = await api<{ course: { name: string } }>('POST', '/courses/join', { body: { code: code.value.trim(), nickname: nick.value.trim() } });
      status.append(notice(`Joined ${r.course.name}.`));
      join.reset();
      await load();
    } catch (e) {
      status.append(notice(`Could not join: ${describe(e)}`, 'error'));
    }
  });

  const [nameField, name] = field('Course name', { name: 'name', required: true, maxlength: 200 });
  const [descField, desc] = field('Description (optional)', { name: 'description' });
  const [tnickField, tnick] = field('Your nickname (optional)', { name: 'nickname', maxlength: 64 });
  const create = h('form', { class: 'card', 'aria-label': 'Create a course' }, h('h2', null, 'Create a course'), nameField, descField, tnickField,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create')));
  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    const body: Record<string, string> = { name: name.value.trim() };
    if (desc.value.trim()) body.description = desc.value.trim();
    if (tnick.value.trim()) body.nickname = tnick.value.trim();
    try {
      const r = await api<CourseCreated>('POST', '/courses', { body });
      status.append(h('p', { class: 'notice ok', role: 'status' }, `Created ${r.course.name}. Join code for students: `,
        h('code', { 'data-testid': 'join-code' }, r.join_code), ' (shown once; the course page can make a new one).'));
      create.reset();
      await load();
    } catch (e) {
      status.append(notice(`Could not create the course: ${describe(e)}`, 'error'));
    }
  });

  main.append(h('h1', null, 'My courses'), status, list, h('div', { class: 'two' }, join, create));
  await load();
}
