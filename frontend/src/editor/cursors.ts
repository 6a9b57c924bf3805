// Remote cursors and selections: one entry per remote user, positions kept in
// the current document and mapped through every change, drawn as a coloured
// caret with the user's name (a text node) and a tinted selection.

import { StateEffect, StateField, type Extension, type Range } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView, WidgetType } from '@codemirror/view';

export interface RemoteCursor {
  key: string;
  name: string;
  color: string;
  ranges: { anchor: number; head: number }[];
  main: number;
}

export const setRemoteCursor = StateEffect.define<RemoteCursor>();
export const removeRemoteCursor = StateEffect.define<string>();

/** Only plain colour notations reach a style attribute. */
export function safeColor(c: unknown): string {
  if (typeof c === 'string' && /^(#[0-9a-fA-F]{3,8}|(rgb|hsl)a?\([0-9.,%\s]+\))$/.test(c)) return c;
  return '#7a5af5';
}

class CaretWidget extends WidgetType {
  constructor(readonly name: string, readonly color: string) {
    super();
  }

  eq(other: CaretWidget): boolean {
    return other.name === this.name && other.color === this.color;
  }

  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    caret.className = 'cm-remote-caret';
    caret.style.borderLeftColor = this.color;
    const label = document.createElement('span');
    label.className = 'cm-remote-name';
    label.style.backgroundColor = this.color;
    label.textContent = this.name;
    caret.appendChild(label);
    caret.setAttribute('aria-label', `${this.name}'s cursor`);
    return caret;
  }

  ignoreEvent(): boolean {
    return true;
  }
}

type CursorMap = Map<string, RemoteCursor>;

const cursorField = StateField.define<CursorMap>({
  create: () => new Map(),
  update(value, tr) {
    let next: CursorMap = value;
    if (tr.docChanged) {
      next = new Map();
      for (const [k, c] of value) {
        next.set(k, {
          ...c,
          ranges: c.ranges.map((r) => ({ anchor: tr.changes.mapPos(r.anchor, 1), head: tr.changes.mapPos(r.head, 1) })),
        });
      }
    }
    for (const e of tr.effects) {
      if (e.is(setRemoteCursor)) {
        if (next === value) next = new Map(value);
        const len = tr.state.doc.length;
        next.set(e.value.key, {
          ...e.value,
          ranges: e.value.ranges.map((r) => ({ anchor: Math.min(Math.max(0, r.anchor), len), head: Math.min(Math.max(0, r.head), len) })),
        });
      } else if (e.is(removeRemoteCursor)) {
        if (next === value) next = new Map(value);
        next.delete(e.value);
      }
    }
    return next;
  },
  provide: (f) => EditorView.decorations.from(f, (map): DecorationSet => {
    const decos: Range<Decoration>[] = [];
    for (const c of map.values()) {
      for (const r of c.ranges) {
        const from = Math.min(r.anchor, r.head);
        const to = Math.max(r.anchor, r.head);
        if (from < to) {
          decos.push(Decoration.mark({ class: 'cm-remote-selection', attributes: { style: `background-color: ${c.color}40` } }).range(from, to));
        }
      }
      const main = c.ranges[c.main] ?? c.ranges[0];
      if (main) decos.push(Decoration.widget({ widget: new CaretWidget(c.name, c.color), side: 1 }).range(main.head));
    }
    return Decoration.set(decos, true);
  }),
});

export function remoteCursors(): Extension {
  return cursorField;
}

/** The names of the remote cursors shown (for tests and the status line). */
export function remoteCursorNames(view: EditorView): string[] {
  return [...view.state.field(cursorField).values()].map((c) => c.name);
}

/** Where a remote user's main cursor is now, or null. */
export function remoteCursorHead(view: EditorView, key: string): number | null {
  const c = view.state.field(cursorField).get(key);
  const r = c ? c.ranges[c.main] ?? c.ranges[0] : undefined;
  return r ? r.head : null;
}
