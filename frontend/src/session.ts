// Who is signed in. The token lives in the HttpOnly session cookie; the page
// only remembers the user record from GET /me.

import { api, ApiError } from './api';
import type { User } from './types';

let current: User | null = null;
let checked = false;

export function me(): User | null {
  return current;
}

/** Asks the server once per page load (and after sign-in/out). */
export async function loadMe(force = false): Promise<User | null> {
  if (checked && !force) return current;
  try {
    current = (await api<{ user: User }>('GET', '/me', { quiet401: true })).user;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    current = null;
  }
  checked = true;
  return current;
}

export async function signIn(login: string, password: string): Promise<User> {
  const r = await api<{ user: User }>('POST', '/sessions', { body: { login, password }, quiet401: true });
  current = r.user;
  checked = true;
  return current;
}

export async function signOut(): Promise<void> {
  try {
    await api<void>('DELETE', '/sessions', { quiet401: true });
  } finally {
    current = null;
    checked = true;
  }
}

export function forget(): void {
  current = null;
  checked = true;
}
