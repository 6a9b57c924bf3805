// Placeholder front end: proves the static build path, the REST API and the
// SSE stream through the web server. Everything user-visible is set with
// textContent, never innerHTML.

interface Health {
  status: string;
  version?: string;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

async function checkHealth(): Promise<void> {
  const out = byId<HTMLElement>('health');
  try {
    const res = await fetch('/api/v1/health', { headers: { Accept: 'application/json' } });
    const body = (await res.json()) as Health;
    out.textContent = `${res.status} ${body.status}${body.version ? ` (${body.version})` : ''}`;
    out.className = res.ok ? 'ok' : 'bad';
  } catch (e) {
    out.textContent = `unreachable: ${String(e)}`;
    out.className = 'bad';
  }
}

let source: EventSource | null = null;

function watch(stream: string): void {
  const log = byId<HTMLElement>('events');
  source?.close();
  log.textContent = '';
  source = new EventSource(`/stream/events?streams=${encodeURIComponent(stream)}`);
  source.onmessage = (ev: MessageEvent<string>) => {
    log.textContent += `${ev.lastEventId}  ${ev.data}\n`;
  };
  source.onerror = () => {
    log.textContent += '(reconnecting…)\n';
  };
}

byId<HTMLFormElement>('watch').addEventListener('submit', (ev) => {
  ev.preventDefault();
  watch(byId<HTMLInputElement>('stream').value.trim());
});

void checkHealth();
