// DOM helpers. Every piece of user-provided text reaches the page as a text
// node (or textContent / an attribute value), never as markup: there is no
// innerHTML anywhere in the front end.

export type Child = Node | string | number | null | undefined | false;

export interface Attrs {
  [name: string]: string | number | boolean | null | undefined | EventListener;
}

/** Creates an element; string children become text nodes, `on<event>` attrs become listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === 'function') {
        el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
      } else if (value === true) {
        el.setAttribute(name, '');
      } else {
        el.setAttribute(name, String(value));
      }
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** A short-lived status line (role=status) for results and errors. */
export function notice(text: string, kind: 'ok' | 'error' = 'ok'): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** A labelled input: returns [wrapper, input]. */
export function field(label: string, attrs: Attrs = {}): [HTMLElement, HTMLInputElement] {
  const id = `f-${Math.random().toString(36).slice(2, 10)}`;
  const input = h('input', { id, ...attrs });
  return [h('div', { class: 'field' }, h('label', { for: id }, label), input), input];
}

/**
 * A modal dialog asking for one line of text. Resolves with the trimmed text,
 * or null when cancelled. Keyboard: Enter submits, Escape cancels.
 */
export function askText(title: string, label: string, initial = '', okLabel = 'OK'): Promise<string | null> {
  return new Promise((resolve) => {
    const [wrap, input] = field(label, { value: initial, autocomplete: 'off', required: true });
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { method: 'dialog' }, h('h2', null, title), wrap,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, okLabel), cancel));
    const dlg = h('dialog', { 'aria-label': title }, form);
    let done = false;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); finish(input.value.trim() || null); });
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', () => finish(null));
    document.body.appendChild(dlg);
    dlg.showModal();
    input.focus();
    input.select();
  });
}

/** A modal yes/no question. */
export function confirmBox(question: string, okLabel = 'Delete'): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'submit', class: 'danger' }, okLabel);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { method: 'dialog' }, h('p', null, question), h('div', { class: 'actions' }, ok, cancel));
    const dlg = h('dialog', { 'aria-label': question }, form);
    let done = false;
    const finish = (v: boolean): void => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); finish(true); });
    cancel.addEventListener('click', () => finish(false));
    dlg.addEventListener('cancel', () => finish(false));
    document.body.appendChild(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
