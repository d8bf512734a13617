// Talks to Sparkgate's own API, relative to the page (so the UI works under any path prefix), with the
// caller's credentials: the browser's own for basic auth and client certificates, or a bearer token kept
// in session storage. Every stream is read with fetch and a stream reader, in every mode: EventSource
// cannot send an Authorization header.

const TOKEN_KEY = 'sparkgate.token';

/** The API's base URL: the server root, one level above /ui/. */
export const API = new URL('../', document.baseURI);

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

function headers(extra = {}) {
  const h = { 'X-Requested-By': 'sparkgate-ui', ...extra };
  const t = token();
  if (t) {
    h['Authorization'] = 'Bearer ' + t;
  }
  return h;
}

/** An API error: HTTP status and the server's {"msg"}. */
export class ApiError extends Error {
  constructor(status, msg) {
    super(msg);
    this.status = status;
  }
}

async function check(res) {
  if (res.ok) {
    return res;
  }
  let msg = res.statusText;
  try {
    msg = (await res.json()).msg || msg;
  } catch (e) {
    // not JSON: keep the status text
  }
  throw new ApiError(res.status, msg);
}

export async function getJson(path, params) {
  const url = new URL(path, API);
  if (params) {
    for (const [k, v] of params) {
      url.searchParams.append(k, v);
    }
  }
  const res = await check(await fetch(url, { headers: headers(), credentials: 'same-origin' }));
  return res.json();
}

export async function del(path) {
  const res = await check(await fetch(new URL(path, API), {
    method: 'DELETE', headers: headers(), credentials: 'same-origin' }));
  return res.json();
}

/**
 * Follows a Server-Sent Events stream: onEvent({event, id, data}) per event. Reconnects after a
 * dropped connection with Last-Event-ID (the id of the last event seen), so a log resumes exactly
 * after its last line. Resolves when the server ends the stream; returns a handle whose stop() ends it.
 */
export function follow(path, onEvent, { onOpen, onError, lastEventId } = {}) {
  let stopped = false;
  let controller = null;
  let lastId = lastEventId;
  // A page the browser keeps in its back/forward cache would keep its streams open, and a browser
  // allows six connections per host: a few pages visited would leave none for the page in view (its
  // next call would wait until one closes). The stream closes while the page is hidden and reopens
  // after its last event when the page is shown again.
  let shown = null;
  let show = () => {};
  window.addEventListener('pagehide', () => {
    shown = new Promise(resolve => { show = resolve; });
    if (controller) {
      controller.abort();
    }
  });
  window.addEventListener('pageshow', () => {
    shown = null;
    show();
  });
  const done = (async () => {
    let delay = 500;
    while (!stopped) {
      if (shown) {
        await shown;
        continue;
      }
      controller = new AbortController();
      const h = headers({ Accept: 'text/event-stream' });
      if (lastId !== undefined && lastId !== null) {
        h['Last-Event-ID'] = String(lastId);
      }
      try {
        const res = await check(await fetch(new URL(path, API), {
          headers: h, credentials: 'same-origin', signal: controller.signal, cache: 'no-store' }));
        if (onOpen) {
          onOpen();
        }
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        let ended = false;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) {
            break;
          }
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const ev = parseEvent(block);
            if (ev) {
              if (ev.id !== undefined) {
                lastId = ev.id;
              }
              if (ev.event === 'end') {
                ended = true;
              }
              onEvent(ev);
            }
          }
        }
        if (ended) {
          return;
        }
      } catch (e) {
        if (stopped) {
          return;
        }
        if (controller.signal.aborted) {
          continue; // closed as the page was hidden: reopened when it is shown
        }
        if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
          if (onError) {
            onError(e);
          }
          return; // not found, forbidden, unauthenticated: retrying would not help
        }
        if (onError) {
          onError(e);
        }
      }
      await new Promise(r => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
  return {
    done,
    stop() {
      stopped = true;
      if (controller) {
        controller.abort();
      }
    },
  };
}

function parseEvent(block) {
  const ev = { event: 'message', data: '' };
  let hasData = false;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'data') {
      ev.data = hasData ? ev.data + '\n' + value : value;
      hasData = true;
    } else if (field === 'event') {
      ev.event = value;
    } else if (field === 'id') {
      ev.id = value;
    }
  }
  return hasData || ev.event !== 'message' ? ev : null;
}

/** An element with text content only: batch data never becomes markup. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') {
      e.className = v;
    } else if (k === 'text') {
      e.textContent = v;
    } else {
      e.setAttribute(k, v);
    }
  }
  for (const c of children) {
    e.append(c); // strings become text nodes
  }
  return e;
}

/** A link only for http(s) URLs: a javascript: URL from a batch never becomes clickable. */
export function link(href, text) {
  try {
    const u = new URL(href, document.baseURI);
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      return el('a', { href: u.href, rel: 'noopener noreferrer', target: '_blank' }, text);
    }
  } catch (e) {
    // not a URL
  }
  return el('span', {}, text);
}

export function fmtTime(iso) {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function fmtDuration(ms) {
  if (ms < 0 || !Number.isFinite(ms)) {
    return '';
  }
  const s = Math.floor(ms / 1000);
  if (s < 60) {
    return s + 's';
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return m + 'm ' + (s % 60) + 's';
  }
  return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
}

const FINAL = new Set(['success', 'dead', 'killed']);

export function isFinal(state) {
  return FINAL.has(state);
}

/** When a batch started running and ended, from its state history. */
export function times(batch) {
  const history = batch.stateHistory || [];
  const running = history.find(c => c.state === 'running');
  const last = history[history.length - 1];
  const ended = last && isFinal(last.state) ? last.time : null;
  return { started: running ? running.time : null, ended };
}

/** The auth bar: a token field when the server wants a bearer token, kept in session storage. */
export function authBar(container, onChange) {
  const input = el('input', { type: 'password', id: 'token', placeholder: 'bearer token', autocomplete: 'off' });
  input.value = token();
  const save = el('button', { type: 'button', id: 'token-save' }, 'Use token');
  save.addEventListener('click', () => {
    setToken(input.value.trim());
    onChange();
  });
  const bar = el('div', { class: 'authbar', id: 'authbar' }, input, save);
  container.append(bar);
  bar.hidden = !token();
  return {
    show() {
      bar.hidden = false;
    },
  };
}
