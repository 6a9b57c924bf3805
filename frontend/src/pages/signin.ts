import { describe } from '../api';
import { field, h, notice } from '../dom';
import { renderHeader, title } from '../layout';
import { navigate } from '../router';
import { signIn } from '../session';

export function signInPage(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): void {
  title('Sign in');
  const [loginField, login] = field('Login', { name: 'login', autocomplete: 'username', required: true });
  const [passField, password] = field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card narrow', 'aria-label': 'Sign in' },
    h('h1', null, 'Sign in'), loginField, passField,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')), status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    try {
      await signIn(login.value.trim(), password.value);
      renderHeader();
      const next = query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', true);
    } catch (e) {
      status.append(notice(`Could not sign in: ${describe(e)}`, 'error'));
    }
  });
  main.append(form);
  login.focus();
}
