// The batch list: one page from ListBatches (filters, order and page in the URL, so a view can be
// shared), kept live by the WatchBatches stream (/watch/batches): rows change in place, new batches
// appear. No polling.
import { getJson, follow, el, link, fmtTime, fmtDuration, times, isFinal, authBar, ApiError } from './api.js';

const PAGE_SIZE = 20;
const params = new URLSearchParams(location.search);
const view = {
  state: params.get('state') || '',
  name: params.get('name') || '',
  owner: params.get('owner') || '',
  order: params.get('order') === 'asc' ? 'asc' : 'desc',
  from: Math.max(0, parseInt(params.get('from') || '0', 10) || 0),
  size: Math.min(500, Math.max(1, parseInt(params.get('size') || String(PAGE_SIZE), 10) || PAGE_SIZE)),
};

const rows = document.getElementById('rows');
const errorBox = document.getElementById('error');
const live = document.getElementById('live');
let total = 0;
/** Rows on the page by batch id, with the batch they show. */
const shown = new Map();
let listed = false;
/** Updates that arrived before the page was listed. */
let early = [];
let watch = null;
const auth = authBar(document.getElementById('auth'), () => location.reload());

function showError(e) {
  if (e instanceof ApiError && e.status === 401) {
    auth.show();
    errorBox.textContent = 'Authentication required (' + e.message + '): with bearer tokens, enter yours above.';
  } else {
    errorBox.textContent = String(e.message || e);
  }
  errorBox.hidden = false;
}

function matches(b) {
  return (!view.state || b.state === view.state)
      && (!view.name || (b.name || '').includes(view.name))
      && (!view.owner || b.owner === view.owner);
}

function row(b) {
  const t = times(b);
  const end = t.ended ? Date.parse(t.ended) : Date.now();
  const duration = t.started ? fmtDuration(end - Date.parse(t.started)) : '';
  const links = el('td', { class: 'links' });
  const ui = b.appInfo && b.appInfo.sparkUiUrl;
  const driverLog = b.appInfo && b.appInfo.driverLogUrl;
  if (ui && !isFinal(b.state)) {
    links.append(link(ui, 'Spark UI'), ' ');
  }
  if (driverLog) {
    links.append(link(driverLog, 'driver log'));
  }
  const tr = el('tr', { 'data-id': String(b.id), 'data-state': b.state },
      el('td', {}, el('a', { href: 'batch.html?id=' + encodeURIComponent(b.id) }, String(b.id))),
      el('td', { class: 'name' }, b.name || ''),
      el('td', {}, b.owner || ''),
      el('td', {}, b.proxyUser || ''),
      el('td', {}, el('span', { class: 'state state-' + b.state }, b.state)),
      el('td', { class: 'mono' }, b.appId || ''),
      el('td', {}, fmtTime(b.createdTime)),
      el('td', {}, fmtTime(t.started)),
      el('td', {}, fmtTime(t.ended)),
      el('td', {}, duration),
      links);
  return tr;
}

function renderRange() {
  const range = document.getElementById('range');
  const n = shown.size;
  range.textContent = n === 0 ? (total === 0 ? 'no batches' : 'nothing here')
      : `${view.from + 1}–${view.from + n} of ${total}`;
  document.getElementById('prev').disabled = view.from === 0;
  document.getElementById('next').disabled = view.from + view.size >= total;
}

function apply(b) {
  const current = shown.get(b.id);
  if (current) {
    if ((b.stateHistory || []).length < (current.stateHistory || []).length) {
      return; // older than what is shown
    }
    const tr = row(b);
    current.tr.replaceWith(tr);
    shown.set(b.id, { ...b, tr });
    return;
  }
  if (!matches(b) || knownIds.has(b.id)) {
    return;
  }
  knownIds.add(b.id);
  // A batch we have not seen: new, since ids only grow. It belongs on the first page of newest-first,
  // or at the end of the last page of oldest-first.
  total += 1;
  if (view.order === 'desc' && view.from === 0) {
    const tr = row(b);
    rows.prepend(tr);
    shown.set(b.id, { ...b, tr });
    if (shown.size > view.size) {
      const last = rows.lastElementChild;
      shown.delete(Number(last.dataset.id));
      last.remove();
    }
  } else if (view.order === 'asc' && shown.size < view.size && view.from + shown.size === total - 1) {
    const tr = row(b);
    rows.append(tr);
    shown.set(b.id, { ...b, tr });
  }
  renderRange();
}

/** Ids listed or counted already, so an update of a batch on another page is not counted as new. */
const knownIds = new Set();
let maxListedId = -1;

async function load() {
  const q = [['from', view.from], ['size', view.size], ['order', view.order]];
  if (view.state) q.push(['state', view.state]);
  if (view.name) q.push(['name', view.name]);
  if (view.owner) q.push(['owner', view.owner]);
  const page = await getJson('batches', q);
  total = page.total;
  rows.replaceChildren();
  shown.clear();
  for (const b of page.sessions) {
    const tr = row(b);
    rows.append(tr);
    shown.set(b.id, { ...b, tr });
    knownIds.add(b.id);
    maxListedId = Math.max(maxListedId, b.id);
  }
  renderRange();
  listed = true;
  performance.mark('sparkgate:list-rendered'); // for the benchmark's first-render figure
  const pending = early;
  early = [];
  for (const b of pending) {
    // Only batches newer than the list can be new; older unknown ids are on other pages.
    if (shown.has(b.id) || b.id > maxListedId) {
      apply(b);
    }
  }
}

function startWatch() {
  watch = follow('watch/batches', ev => {
    if (ev.event !== 'batch') {
      return;
    }
    const b = JSON.parse(ev.data);
    if (!listed) {
      early.push(b);
    } else if (shown.has(b.id) || b.id > maxListedId) {
      apply(b);
    }
  }, {
    onOpen: () => {
      live.textContent = 'live';
      live.classList.add('on');
    },
    onError: e => {
      live.classList.remove('on');
      if (e instanceof ApiError) {
        live.textContent = 'not live';
        showError(e);
      } else {
        live.textContent = 'reconnecting…';
      }
    },
  });
}

function go(changes) {
  const next = { ...view, ...changes };
  const p = new URLSearchParams();
  for (const k of ['state', 'name', 'owner']) {
    if (next[k]) p.set(k, next[k]);
  }
  if (next.order !== 'desc') p.set('order', next.order);
  if (next.from) p.set('from', next.from);
  if (next.size !== PAGE_SIZE) p.set('size', next.size);
  const qs = p.toString();
  location.href = location.pathname + (qs ? '?' + qs : '');
}

document.getElementById('f-state').value = view.state;
document.getElementById('f-name').value = view.name;
document.getElementById('f-owner').value = view.owner;
document.getElementById('f-order').value = view.order;
document.getElementById('filters').addEventListener('submit', e => {
  e.preventDefault();
  const f = new FormData(e.target);
  go({ state: f.get('state'), name: f.get('name').trim(), owner: f.get('owner').trim(), order: f.get('order'),
       from: 0 });
});
document.getElementById('prev').addEventListener('click', () => go({ from: Math.max(0, view.from - view.size) }));
document.getElementById('next').addEventListener('click', () => go({ from: view.from + view.size }));

// Watch first, then list: a change between the two is caught from the watch.
startWatch();
load().catch(showError);
