// A History-API router: one table of path patterns, each rendering a page
// into the main element. Links marked data-link navigate without a reload.

export interface Page {
  /** Called when the page is left: close streams, timers, editors. */
  dispose?: () => void;
}

export type Render = (main: HTMLElement, params: Record<string, string>, query: URLSearchParams) => Promise<Page | void> | Page | void;

interface Route {
  pattern: RegExp;
  keys: string[];
  render: Render;
}

const routes: Route[] = [];
let currentPage: Page | void = undefined;
let mainEl: HTMLElement | null = null;
let generation = 0;

/** Registers `/courses/:id` style patterns. */
export function route(path: string, render: Render): void {
  const keys: string[] = [];
  const src = path.replace(/:([a-z]+)/g, (_m, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  routes.push({ pattern: new RegExp(`^${src}/?$`), keys, render });
}

export function navigate(to: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  void dispatch();
}

export async function dispatch(): Promise<void> {
  if (!mainEl) return;
  const gen = ++generation;
  currentPage?.dispose?.();
  currentPage = undefined;
  let path = location.pathname;
  try {
    path = decodeURI(path);
  } catch {
    // A malformed escape: match the raw path (no route will), never throw.
  }
  const query = new URLSearchParams(location.search);
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => {
      const raw = m[i + 1] ?? '';
      try { params[k] = decodeURIComponent(raw); } catch { params[k] = raw; }
    });
    const main = mainEl;
    while (main.firstChild) main.removeChild(main.firstChild);
    const page = await r.render(main, params, query);
    if (gen !== generation) {
      page?.dispose?.();
      return;
    }
    currentPage = page;
    main.focus({ preventScroll: true });
    return;
  }
  while (mainEl.firstChild) mainEl.removeChild(mainEl.firstChild);
  const p = document.createElement('p');
  p.textContent = `No page at ${path}.`;
  mainEl.appendChild(p);
}

export function startRouter(main: HTMLElement): void {
  mainEl = main;
  window.addEventListener('popstate', () => void dispatch());
  document.addEventListener('click', (ev) => {
    const a = (ev.target as Element | null)?.closest?.('a[data-link]');
    if (!a || !(a instanceof HTMLAnchorElement)) return;
    if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    navigate(a.pathname + a.search);
  });
  void dispatch();
}
