// The page frame: the header with navigation, the signed-in user and sign out.

import { h, replace } from './dom';
import { navigate } from './router';
import { me, signOut } from './session';

export function renderHeader(): void {
  const header = document.getElementById('top');
  if (!header) return;
  const user = me();
  const nav = h('nav', { 'aria-label': 'Main' },
    h('a', { href: '/', 'data-link': true, class: 'brand' }, 'cohort'),
    user ? h('a', { href: '/', 'data-link': true }, 'My courses') : null,
    h('a', { href: '/api-docs/' }, 'API reference'),
  );
  const right = h('div', { class: 'who' });
  if (user) {
    right.append(h('span', { class: 'user', 'data-testid': 'whoami' }, user.display_name || user.login),
      h('button', {
        type: 'button',
        onclick: async () => {
          await signOut().catch(() => undefined);
          renderHeader();
          navigate('/signin');
        },
      }, 'Sign out'));
  } else {
    right.append(h('a', { href: '/signin', 'data-link': true }, 'Sign in'));
  }
  replace(header, nav, right);
}

/** Sets the document title from user text (safe: title is text). */
export function title(text: string): void {
  document.title = text ? `${text} · cohort` : 'cohort';
}
