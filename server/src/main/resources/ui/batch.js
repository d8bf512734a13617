// One batch: its fields, its request, its state history (live from /events) and its log, followed live
// over /log/stream from line 0, resuming after a dropped connection with Last-Event-ID. The log view
// keeps a bounded window of rows, so a log of a million lines does not grow the page; older lines are
// paged back through /log.
import { getJson, del, follow, el, link, fmtTime, isFinal, authBar, ApiError, token, API } from './api.js';

/** Most log rows in the page at once. */
const WINDOW = 2000;
/** Lines fetched per "load older lines". */
const OLDER_PAGE = 500;

const id = new URLSearchParams(location.search).get('id');
const errorBox = document.getElementById('error');
const outcome = document.getElementById('outcome');
const logBox = document.getElementById('log');
const logStatus = document.getElementById('log-status');
const killButton = document.getElementById('kill');
const auth = authBar(document.getElementById('auth'), () => location.reload());
let batch = null;

function showError(e) {
  if (e instanceof ApiError && e.status === 401) {
    auth.show();
  }
  if (e instanceof ApiError && e.status === 404 && batch) {
    // It was here when the page loaded: deleted since (killed and removed, or past retention).
    if (outcome.hidden) {
      outcome.textContent = `Batch ${batch.id} no longer exists: it was deleted.`;
      outcome.className = 'outcome';
      outcome.hidden = false;
    }
    return;
  }
  errorBox.textContent = String(e.message || e);
  errorBox.hidden = false;
}

function fieldRows(table, pairs) {
  table.replaceChildren();
  for (const [k, v] of pairs) {
    table.append(el('tr', {}, el('th', {}, k), el('td', {}, v)));
  }
}

function list(values) {
  if (!values || values.length === 0) {
    return '';
  }
  const ul = el('ul', { class: 'values' });
  for (const v of values) {
    ul.append(el('li', {}, String(v)));
  }
  return ul;
}

function confTable(conf) {
  const keys = Object.keys(conf || {}).sort();
  if (keys.length === 0) {
    return '';
  }
  const t = el('table', { class: 'conf' });
  for (const k of keys) {
    t.append(el('tr', {}, el('td', { class: 'mono' }, k), el('td', { class: 'mono' }, conf[k])));
  }
  return t;
}

function renderBatch(b) {
  batch = b;
  document.title = 'Sparkgate batch ' + b.id + (b.name ? ' ' + b.name : '');
  document.getElementById('title').textContent = b.id + (b.name ? ' · ' + b.name : '');
  const state = document.getElementById('state');
  state.textContent = b.state;
  state.className = 'state state-' + b.state;
  const ui = b.appInfo && b.appInfo.sparkUiUrl;
  const driverLog = b.appInfo && b.appInfo.driverLogUrl;
  fieldRows(document.getElementById('summary'), [
    ['id', String(b.id)], ['name', b.name || ''], ['owner', b.owner || ''], ['proxy user', b.proxyUser || ''],
    ['state', b.state], ['app id', b.appId || ''], ['created', fmtTime(b.createdTime)],
    ['Spark UI', ui ? link(ui, ui) : ''], ['driver log', driverLog ? link(driverLog, driverLog) : ''],
  ]);
  const r = b.request;
  if (r) {
    fieldRows(document.getElementById('request'), [
      ['file', r.file || ''], ['class', r.className || ''], ['args', list(r.args)], ['jars', list(r.jars)],
      ['py files', list(r.pyFiles)], ['files', list(r.files)], ['archives', list(r.archives)],
      ['driver memory', r.driverMemory || ''], ['driver cores', r.driverCores == null ? '' : String(r.driverCores)],
      ['executor memory', r.executorMemory || ''],
      ['executor cores', r.executorCores == null ? '' : String(r.executorCores)],
      ['executors', r.numExecutors == null ? '' : String(r.numExecutors)], ['queue', r.queue || ''],
      ['conf', confTable(r.conf)],
    ]);
  } else {
    fieldRows(document.getElementById('request'), [['', 'not yours to read']]);
  }
  renderHistory(b.stateHistory || []);
  const mayKill = b.mayDelete === true && !isFinal(b.state);
  killButton.hidden = !mayKill;
}

function renderHistory(history) {
  const body = document.querySelector('#history tbody');
  body.replaceChildren();
  for (const c of history) {
    body.append(el('tr', { 'data-state': c.state }, el('td', {}, el('span', { class: 'state state-' + c.state },
        c.state)), el('td', {}, fmtTime(c.time)), el('td', {}, c.reason || '')));
  }
}

// ---- the log window ----

/** Offsets of the first and last rows in the window; -1 when empty. */
let first = -1;
let last = -1;
/** Highest offset received from the stream. */
let streamed = -1;
/** The reader paged back: live lines are counted, not shown, until "jump to the live end". */
let pinned = false;
let pending = [];
let flushScheduled = false;

function atBottom() {
  return logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 4;
}

function lineRow(offset, text) {
  return el('div', { class: 'line', 'data-offset': String(offset) },
      el('span', { class: 'no' }, String(offset)), el('span', { class: 'text' }, text));
}

function append(lines) {
  const follow = atBottom();
  const frag = document.createDocumentFragment();
  for (const [offset, text] of lines) {
    if (offset <= last) {
      continue; // already shown (a page read overlapped the stream)
    }
    if (last >= 0 && offset !== last + 1) {
      // Never silently: a jump in offsets would be a gap.
      frag.append(el('div', { class: 'gap' }, `… lines ${last + 1}–${offset - 1} not shown`));
    }
    frag.append(lineRow(offset, text));
    if (first < 0) {
      first = offset;
    }
    last = offset;
  }
  logBox.append(frag);
  trimTop();
  if (follow) {
    logBox.scrollTop = logBox.scrollHeight;
  }
  updateTools();
}

function trimTop() {
  let rows = logBox.childElementCount;
  while (rows > WINDOW) {
    logBox.firstElementChild.remove();
    rows--;
  }
  const top = logBox.querySelector('.line');
  first = top ? Number(top.dataset.offset) : -1;
}

function updateTools() {
  document.getElementById('older').hidden = !(first > 0);
  document.getElementById('to-end').hidden = !pinned;
  logStatus.textContent = last < 0 ? '(no lines yet)' : `lines ${first}–${last}` + (pinned && streamed > last
      ? ` · ${streamed - last} newer lines not shown` : '');
}

function flush() {
  flushScheduled = false;
  const lines = pending;
  pending = [];
  append(lines);
}

function onLine(offset, text) {
  streamed = Math.max(streamed, offset);
  if (pinned) {
    updateTools();
    return;
  }
  pending.push([offset, text]);
  if (pending.length > WINDOW) {
    pending.splice(0, pending.length - WINDOW); // older than the window: they would be trimmed at once
  }
  if (!flushScheduled) {
    flushScheduled = true;
    requestAnimationFrame(flush);
    // A hidden tab gets no animation frames: flush anyway, bounded by the window above.
    setTimeout(() => flushScheduled && flush(), 250);
  }
}

async function loadOlder() {
  if (first <= 0) {
    return;
  }
  const from = Math.max(0, first - OLDER_PAGE);
  const page = await getJson(`batches/${id}/log`, [['from', from], ['size', first - from]]);
  pinned = true;
  const height = logBox.scrollHeight;
  const frag = document.createDocumentFragment();
  page.log.forEach((text, i) => frag.append(lineRow(page.from + i, text)));
  logBox.prepend(frag);
  // Keep the window bounded from the bottom now: the reader is looking up.
  while (logBox.childElementCount > WINDOW) {
    logBox.lastElementChild.remove();
  }
  const bottom = [...logBox.querySelectorAll('.line')].pop();
  last = bottom ? Number(bottom.dataset.offset) : -1;
  first = page.from;
  logBox.scrollTop += logBox.scrollHeight - height;
  updateTools();
}

async function jumpToEnd() {
  const page = await getJson(`batches/${id}/log`, [['size', WINDOW]]); // the tail
  logBox.replaceChildren();
  first = -1;
  last = -1;
  pinned = false;
  append(page.log.map((text, i) => [page.from + i, text]));
  logBox.scrollTop = logBox.scrollHeight;
}

document.getElementById('older').addEventListener('click', () => loadOlder().catch(showError));
document.getElementById('to-end').addEventListener('click', () => jumpToEnd().catch(showError));

// ---- download, kill ----

const download = document.getElementById('download');
download.href = new URL(`batches/${id}/log/text`, API).href;
download.setAttribute('download', `batch-${id}.log`);
download.addEventListener('click', async e => {
  if (!token()) {
    return; // the browser sends its own credentials and streams the file to disk
  }
  // A bearer token cannot ride on a plain link: fetch it with the header.
  e.preventDefault();
  try {
    const res = await fetch(download.href, { headers: { Authorization: 'Bearer ' + token() } });
    if (!res.ok) {
      throw new ApiError(res.status, (await res.json()).msg);
    }
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: `batch-${id}.log` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    showError(err);
  }
});

const dialog = document.getElementById('confirm');
killButton.addEventListener('click', () => {
  document.getElementById('confirm-text').textContent =
      `Kill batch ${batch.id}${batch.name ? ' (' + batch.name + ')' : ''}? Its application is stopped and the batch is removed.`;
  dialog.showModal();
});
dialog.addEventListener('close', async () => {
  if (dialog.returnValue !== 'kill') {
    return;
  }
  killButton.disabled = true;
  try {
    const res = await del(`batches/${id}`);
    outcome.textContent = `Batch ${id}: ${res.msg} (killed).`;
    outcome.className = 'outcome ok';
    killButton.hidden = true;
  } catch (e) {
    outcome.textContent = `Kill refused: ${e.message}`;
    outcome.className = 'outcome refused';
    killButton.disabled = false;
  }
  outcome.hidden = false;
});

// ---- start ----

async function start() {
  if (id === null || !/^\d+$/.test(id)) {
    throw new Error('no batch id in the address (batch.html?id=N)');
  }
  renderBatch(await getJson(`batches/${id}`));
  if (batch.request === null) {
    // Listed to this user without its log or streams (sparkgate.access.others-batches = listed).
    logStatus.textContent = '(not yours to read)';
    return;
  }
  // State changes live: the history grows in place.
  follow(`batches/${id}/events`, ev => {
    if (ev.event !== 'state' || !batch) {
      return;
    }
    const change = JSON.parse(ev.data);
    const history = batch.stateHistory || [];
    const lastChange = history[history.length - 1];
    if (lastChange && lastChange.time === change.time && lastChange.state === change.state) {
      return; // the current state, sent first
    }
    // Links and app id come with the full object.
    getJson(`batches/${id}`).then(renderBatch).catch(e => {
      if (e instanceof ApiError && e.status === 404) {
        // Deleted (a kill removes the batch): show the final state the stream told.
        renderBatch({ ...batch, state: change.state, stateHistory: [...history, change] });
      } else {
        showError(e);
      }
    });
  }, { onError: showError });
  const stream = follow(`batches/${id}/log/stream`, ev => {
    if (ev.event === 'end') {
      const end = JSON.parse(ev.data);
      logStatus.dataset.ended = end.state;
      return;
    }
    onLine(Number(ev.id), ev.data);
  }, { onError: showError });
  await stream.done;
  if (pending.length) {
    flush();
  }
  logStatus.textContent += ' · ended';
  logBox.dataset.ended = 'true';
}

start().catch(showError);
