// The share dialog: the owner grants or revokes read / write per participant.

import { api, describe } from '../api';
import { h, notice, replace } from '../dom';
import type { GrantList, Participant } from '../types';

export async function openShareDialog(projectId: number, courseId: number, myParticipant: number, onChange: () => void): Promise<void> {
  const body = h('div', { class: 'share-body' }, h('p', null, 'Loading…'));
  const status = h('div', { 'aria-live': 'polite' });
  const close = h('button', { type: 'button' }, 'Close');
  const dlg = h('dialog', { 'aria-label': 'Share this project', class: 'share' },
    h('h2', null, 'Share this project'),
    h('p', { class: 'muted' }, 'Teachers can read and write students’ projects and students can read teachers’ unless a row here says otherwise.'),
    body, status, h('div', { class: 'actions' }, close));
  close.addEventListener('click', () => { dlg.close(); dlg.remove(); });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();

  const load = async (): Promise<void> => {
    const [people, grants] = await Promise.all([
      api<{ participants: Participant[] }>('GET', `/courses/${courseId}/participants`),
      api<GrantList>('GET', `/projects/${projectId}/grants`),
    ]);
    const rows = new Map<number, { read: boolean; write: boolean }>();
    for (const g of grants.grants) rows.set(typeof g.grantee === 'number' ? g.grantee : g.grantee.id, g.bits);
    const effective = new Map(grants.can_open.map((a) => [a.participant_id, a]));
    const table = h('table', { class: 'grants' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Participant'), h('th', { scope: 'col' }, 'Read'),
        h('th', { scope: 'col' }, 'Write'), h('th', { scope: 'col' }, 'Now'), h('th', { scope: 'col' }, ''))));
    const tbody = h('tbody');
    for (const p of people.participants) {
      if (p.id === myParticipant) continue;
      const row = rows.get(p.id);
      const eff = effective.get(p.id);
      const read = h('input', { type: 'checkbox', 'aria-label': `Read for ${p.nickname}`, checked: row ? row.read : Boolean(eff?.read) });
      const write = h('input', { type: 'checkbox', 'aria-label': `Write for ${p.nickname}`, checked: row ? row.write : Boolean(eff?.write) });
      write.addEventListener('change', () => { if (write.checked) read.checked = true; });
      read.addEventListener('change', () => { if (!read.checked) write.checked = false; });
      const save = h('button', {
        type: 'button', 'aria-label': `Save access for ${p.nickname}`,
        onclick: async () => {
          try {
            await api('PUT', `/projects/${projectId}/grants/${p.id}`, { body: { read: read.checked, write: write.checked } });
            replace(status, notice(`Saved for ${p.nickname}.`));
            onChange();
            await load();
          } catch (e) { replace(status, notice(describe(e), 'error')); }
        },
      }, 'Save');
      const revoke = row ? h('button', {
        type: 'button', 'aria-label': `Remove the grant for ${p.nickname}`,
        onclick: async () => {
          try {
            await api('DELETE', `/projects/${projectId}/grants/${p.id}`);
            replace(status, notice(`${p.nickname} is back to the default rules.`));
            onChange();
            await load();
          } catch (e) { replace(status, notice(describe(e), 'error')); }
        },
      }, 'Remove grant') : null;
      const now = eff ? (eff.write ? 'read + write' : 'read') : 'no access';
      tbody.append(h('tr', { 'data-participant': p.id },
        h('th', { scope: 'row' }, p.nickname, ' ', h('span', { class: `badge ${p.role}` }, p.role)),
        h('td', null, read), h('td', null, write), h('td', null, now, row ? ' (grant)' : ''), h('td', null, save, ' ', revoke)));
    }
    table.append(tbody);
    replace(body, table);
  };
  try {
    await load();
  } catch (e) {
    replace(body, notice(describe(e), 'error'));
  }
}
