// The project's file tree: entries from GET .../tree, create / rename-move /
// delete of files and directories. Binary files are listed but not opened.

import { api, describe, qs } from '../api';
import { askText, confirmBox, h, replace } from '../dom';
import type { FileEntry, FileTree } from '../types';

export interface TreeHost {
  projectId: number;
  canWrite: () => boolean;
  open: (path: string) => void;
  error: (text: string) => void;
}

export class FileTreeView {
  readonly dom: HTMLElement;
  private list: HTMLElement;
  private toolbar: HTMLElement;
  entries: FileEntry[] = [];
  private timer: number | undefined;

  constructor(private readonly host: TreeHost) {
    this.list = h('ul', { class: 'tree', 'aria-label': 'Files' });
    this.toolbar = h('div', { class: 'tree-tools' },
      h('button', { type: 'button', onclick: () => void this.create('file', '') }, 'New file'),
      h('button', { type: 'button', onclick: () => void this.create('dir', '') }, 'New folder'));
    this.dom = h('nav', { class: 'files', 'aria-label': 'Project files' }, h('h2', null, 'Files'), this.toolbar, this.list);
  }

  entry(path: string): FileEntry | undefined {
    return this.entries.find((e) => e.path === path);
  }

  /** Reloads soon (several file events in a row make one request). */
  refreshSoon(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refresh(), 80);
  }

  async refresh(): Promise<void> {
    try {
      const r = await api<FileTree>('GET', `/projects/${this.host.projectId}/tree`);
      this.entries = r.entries;
      this.render();
    } catch (e) {
      this.host.error(`Could not list the files: ${describe(e)}`);
    }
  }

  private render(): void {
    this.toolbar.hidden = !this.host.canWrite();
    if (!this.entries.length) {
      replace(this.list, h('li', { class: 'empty' }, 'No files yet.'));
      return;
    }
    const write = this.host.canWrite();
    replace(this.list, ...this.entries.map((e) => {
      const parts = e.path.split('/');
      const name = parts[parts.length - 1] ?? e.path;
      const depth = parts.length - 1;
      const label = e.kind === 'dir'
        ? h('span', { class: 'dir-name' }, h('span', { 'aria-hidden': 'true' }, '▸ '), name, '/')
        : e.binary
          ? h('span', { class: 'file-name binary', title: 'binary file: not opened as text' }, name, h('span', { class: 'badge' }, 'binary'))
          : h('button', { type: 'button', class: 'file-name link', 'aria-label': `Open ${e.path}`, onclick: () => this.host.open(e.path) }, name);
      const row = h('li', { 'data-path': e.path, 'data-kind': e.kind, style: `padding-left: ${depth * 1.1}rem` }, label);
      if (write) {
        const actions = h('span', { class: 'row-actions' });
        if (e.kind === 'dir') {
          actions.append(h('button', { type: 'button', class: 'small', 'aria-label': `New file in ${e.path}`, onclick: () => void this.create('file', `${e.path}/`) }, '+'));
        }
        actions.append(
          h('button', { type: 'button', class: 'small', 'aria-label': `Rename or move ${e.path}`, onclick: () => void this.rename(e) }, 'Rename'),
          h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${e.path}`, onclick: () => void this.remove(e) }, 'Delete'));
        row.append(actions);
      }
      return row;
    }));
  }

  private async create(kind: 'file' | 'dir', prefix: string): Promise<void> {
    const path = await askText(kind === 'file' ? 'New file' : 'New folder', 'Path in the project', prefix, 'Create');
    if (!path) return;
    try {
      if (kind === 'file') {
        await api('PUT', `/projects/${this.host.projectId}/file${qs({ path, parents: 1 })}`, {
          raw: new Blob([]), headers: { 'Content-Type': 'application/octet-stream' },
        });
      } else {
        await api('POST', `/projects/${this.host.projectId}/dirs`, { body: { path, parents: true } });
      }
      await this.refresh();
      if (kind === 'file') this.host.open(path);
    } catch (e) {
      this.host.error(`Could not create ${path}: ${describe(e)}`);
    }
  }

  private async rename(e: FileEntry): Promise<void> {
    const to = await askText(`Rename or move ${e.kind === 'dir' ? 'folder' : 'file'}`, 'New path', e.path, 'Rename');
    if (!to || to === e.path) return;
    try {
      await api('POST', `/projects/${this.host.projectId}/move`, { body: { from: e.path, to } });
      await this.refresh();
    } catch (err) {
      this.host.error(`Could not rename ${e.path}: ${describe(err)}`);
    }
  }

  private async remove(e: FileEntry): Promise<void> {
    if (!(await confirmBox(`Delete ${e.path}${e.kind === 'dir' ? ' and everything in it' : ''}?`))) return;
    try {
      await api('DELETE', `/projects/${this.host.projectId}/file${qs({ path: e.path })}`);
      await this.refresh();
    } catch (err) {
      this.host.error(`Could not delete ${e.path}: ${describe(err)}`);
    }
  }
}
