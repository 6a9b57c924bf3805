// A room (/room/<name>): anonymous shared editing. The server side of rooms
// is not built yet (issue 6); this page is the shell: the name prompt and
// where the roster and editor will go.

import { field, h, notice, replace } from '../dom';
import { title } from '../layout';

const NAME_KEY = 'cohort.room.name';

export function roomPage(main: HTMLElement, params: Record<string, string>): void {
  const room = params.name ?? '';
  title(`Room ${room}`);
  const body = h('div');
  const roster = h('ul', { class: 'roster', 'aria-label': 'People in the room' });

  const enter = (name: string): void => {
    replace(roster, h('li', null, h('span', { class: 'dot online', 'aria-hidden': 'true' }), h('span', { class: 'nick' }, name), ' (you)'));
    replace(body,
      h('p', null, 'You are ', h('strong', { 'data-testid': 'room-name' }, name), ' in this room. ',
        h('button', { type: 'button', onclick: () => { localStorage.removeItem(NAME_KEY); prompt(); } }, 'Change name')),
      notice('Rooms are not available on this server yet: the room API (anonymous sessions, roster, shared file) is pending on the backend.', 'error'),
      h('section', { 'aria-labelledby': 'room-roster' }, h('h2', { id: 'room-roster' }, 'In the room'), roster));
  };

  const prompt = (): void => {
    const [nameField, input] = field('Your name in the room', { name: 'name', required: true, maxlength: 64, autocomplete: 'nickname' });
    const form = h('form', { class: 'card narrow', 'aria-label': 'Enter the room' }, nameField,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Enter')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      localStorage.setItem(NAME_KEY, name);
      enter(name);
    });
    replace(body, form);
    input.focus();
  };

  main.append(h('h1', null, 'Room ', h('span', { class: 'room-id' }, room)), body);
  const saved = localStorage.getItem(NAME_KEY);
  if (saved) enter(saved);
  else prompt();
}
