// tpm-serve's page. Plain JavaScript, no library: the table of processes,
// refreshed every 2 s while the tab is visible, and for the selected one its
// record, its events and a live log tail (Server-Sent Events read through
// fetch, which can send the Authorization header where EventSource cannot).
//
// Every text that comes from the server (names, log lines, fields) is put
// in the page with textContent, never as HTML: a program's output must not
// run in the page that holds the token.
'use strict';

const TOKEN_KEY = 'tpm-token';
const REFRESH_MS = 2000;
const LOG_MAX = 2000; // lines kept in the tail
const ALARMING = new Set(['errored', 'output_lost', 'policy', 'health']);
const CALM = new Set(['start', 'adopt']);
const RUNNING = new Set(['online', 'launching', 'restarting', 'stopping', 'unsupervised', 'unhealthy']);

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const state = {
  procs: [],          // the last list, as the API gives it
  prev: new Map(),    // name -> {cpu, at} of the refresh before, for CPU %
  cpuPct: new Map(),  // name -> percent of one core
  selected: null,
  sort: { key: 'name', dir: 1 },
  onlyStatus: null,
  timer: 0,
  logAbort: null,
  lastEvent: '',
  busy: false,
};

// --- The token and the API ---------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

function askToken(message) {
  const d = $('login');
  $('login-error').hidden = !message;
  $('login-error').textContent = message || '';
  $('token-input').value = '';
  if (!d.open) d.showModal();
  $('token-input').focus();
}

class Unauthorized extends Error {}

async function api(path, opts = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token() }, opts.headers || {});
  const res = await fetch('/v1' + path, Object.assign({}, opts, { headers, cache: 'no-store' }));
  if (res.status === 401) throw new Unauthorized();
  let body = null;
  const text = await res.text();
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || res.status + ' ' + res.statusText);
    err.status = res.status;
    throw err;
  }
  return body;
}

function unauthorized(e) {
  if (!(e instanceof Unauthorized)) return false;
  const had = token() !== '';
  sessionStorage.removeItem(TOKEN_KEY);
  stopRefresh();
  closeLog();
  askToken(had ? 'That token was refused (a new one may have been made).' : '');
  return true;
}

// --- Formatting --------------------------------------------------------------

function human(bytes) {
  if (!bytes) return '–';
  const u = ['B', 'K', 'M', 'G', 'T'];
  let i = 0, v = bytes;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)) + u[i];
}

function duration(s) {
  if (!s) return '–';
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
  if (s < 86400) return Math.floor(s / 3600) + 'h' + (Math.floor(s / 60) % 60 ? ' ' + (Math.floor(s / 60) % 60) + 'm' : '');
  return Math.floor(s / 86400) + 'd' + (Math.floor(s / 3600) % 24 ? ' ' + (Math.floor(s / 3600) % 24) + 'h' : '');
}

function cpuTime(s) {
  if (!s) return '0s';
  if (s < 60) return s.toFixed(2) + 's';
  return duration(Math.round(s));
}

function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const today = new Date();
  const t = d.toLocaleTimeString([], { hour12: false });
  return d.toDateString() === today.toDateString() ? t : d.toLocaleDateString() + ' ' + t;
}

function eventText(ev) {
  if (!ev) return '';
  const skip = new Set(['time', 'event', 'name', 'stream', 'line']);
  const parts = [ev.event];
  for (const [k, v] of Object.entries(ev)) if (!skip.has(k)) parts.push(k + '=' + v);
  return parts.join(' ');
}

// --- The table ----------------------------------------------------------------

async function refresh() {
  clearTimeout(state.timer);
  state.timer = 0;
  try {
    const list = await api('/processes');
    const now = performance.now();
    for (const p of list) {
      const before = state.prev.get(p.name);
      if (before && p.cpu >= before.cpu && p.pid === before.pid) {
        state.cpuPct.set(p.name, (p.cpu - before.cpu) / ((now - before.at) / 1000) * 100);
      } else {
        state.cpuPct.set(p.name, null);
      }
      state.prev.set(p.name, { cpu: p.cpu, at: now, pid: p.pid });
    }
    state.procs = list;
    render();
    setLive(true, 'updated ' + new Date().toLocaleTimeString([], { hour12: false }));
  } catch (e) {
    if (unauthorized(e)) return;
    setLive(false, 'cannot reach the server: ' + e.message);
  }
  schedule();
}

function schedule() {
  if (document.visibilityState === 'visible' && token() && !state.timer) {
    state.timer = setTimeout(refresh, REFRESH_MS);
  }
}

function stopRefresh() { clearTimeout(state.timer); state.timer = 0; }

function setLive(ok, text) {
  $('live').className = 'live ' + (ok ? 'ok' : 'bad');
  $('updated').textContent = text;
}

function sortValue(p, key) {
  switch (key) {
    case 'cpuPct': return state.cpuPct.get(p.name) ?? -1;
    case 'event': return p.last_event ? p.last_event.time : '';
    case 'pid': return RUNNING.has(p.status) ? p.pid || 0 : 0;
    default: return p[key] ?? '';
  }
}

function visible() {
  const q = $('filter').value.trim().toLowerCase();
  let list = state.procs.filter((p) =>
    (!state.onlyStatus || p.status === state.onlyStatus) &&
    (!q || p.name.toLowerCase().includes(q) || p.status.includes(q) || String(p.port || '').includes(q)));
  const { key, dir } = state.sort;
  list.sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    if (x < y) return -dir;
    if (x > y) return dir;
    return a.name < b.name ? -1 : 1;
  });
  return list;
}

function render() {
  renderCounts();
  const rows = $('rows');
  const list = visible();
  const frag = document.createDocumentFragment();
  for (const p of list) frag.appendChild(row(p));
  rows.replaceChildren(frag);
  $('empty').hidden = state.procs.length > 0;
  for (const th of document.querySelectorAll('thead th')) {
    th.classList.toggle('asc', th.dataset.sort === state.sort.key && state.sort.dir === 1);
    th.classList.toggle('desc', th.dataset.sort === state.sort.key && state.sort.dir === -1);
  }
  if (state.selected) {
    const p = state.procs.find((x) => x.name === state.selected);
    if (p) renderDetail(p);
    else $('d-status').textContent = 'removed';
  }
}

function statusCell(status) {
  return el('span', 'st st-' + status, status);
}

function cell(text, cls) {
  const td = el('td', cls, text);
  return td;
}

function row(p) {
  const tr = el('tr');
  tr.dataset.name = p.name;
  tr.dataset.status = p.status;
  if (p.name === state.selected) tr.className = 'sel';
  const running = RUNNING.has(p.status);
  const st = el('td', 'c-status');
  st.appendChild(statusCell(p.status));
  tr.appendChild(st);
  const name = cell(p.name, 'c-name');
  name.title = p.error || p.script || p.name;
  tr.appendChild(name);
  tr.appendChild(cell(running && p.pid ? String(p.pid) : '–', 'num' + (running ? '' : ' zero')));
  tr.appendChild(cell(p.port ? String(p.port) : '–', 'num' + (p.port ? '' : ' zero')));
  tr.appendChild(cell(duration(p.uptime), 'num' + (p.uptime ? '' : ' zero')));
  const r = p.restarts || 0;
  tr.appendChild(cell(String(r), 'num' + (r === 0 ? ' zero' : r >= 3 ? ' hot' : '')));
  const pct = state.cpuPct.get(p.name);
  const cpu = cell(running ? (pct == null ? '…' : pct.toFixed(pct < 10 ? 1 : 0) + '%') : '–', 'num bar-cell' + (running ? '' : ' zero'));
  cpu.title = 'CPU time ' + cpuTime(p.cpu);
  if (running && pct) {
    const i = el('i');
    i.style.width = Math.min(pct, 100) * 0.5 + 'px';
    cpu.appendChild(i);
  }
  tr.appendChild(cpu);
  const mem = cell(running ? human(p.memory) : '–', 'num' + (running ? '' : ' zero'));
  if (p.processes > 1) mem.title = p.processes + ' processes';
  tr.appendChild(mem);
  const ev = cell(p.last_event ? clock(p.last_event.time) + '  ' + eventText(p.last_event) : p.error || '', 'c-event');
  ev.title = ev.textContent;
  tr.appendChild(ev);
  return tr;
}

function renderCounts() {
  const counts = new Map();
  for (const p of state.procs) counts.set(p.status, (counts.get(p.status) || 0) + 1);
  const box = $('counts');
  const frag = document.createDocumentFragment();
  const order = ['online', 'launching', 'restarting', 'stopping', 'unhealthy', 'unsupervised', 'errored', 'stale', 'invalid', 'exited', 'stopped'];
  for (const s of order) {
    if (!counts.has(s)) continue;
    const c = el('span', 'count' + (state.onlyStatus === s ? ' on' : ''));
    c.dataset.status = s;
    c.title = state.onlyStatus === s ? 'Show all' : 'Show only ' + s;
    c.appendChild(el('span', 'st st-' + s));
    c.appendChild(el('b', '', String(counts.get(s))));
    c.appendChild(el('span', 'dim', s));
    frag.appendChild(c);
  }
  box.replaceChildren(frag);
}

// --- The detail -------------------------------------------------------------

function select(name) {
  if (state.selected === name) return;
  state.selected = name;
  state.lastEvent = '';
  $('detail').hidden = false;
  $('d-name').textContent = name;
  $('log').replaceChildren();
  $('events').replaceChildren();
  history.replaceState(null, '', '#' + encodeURIComponent(name));
  render();
  openLog(name);
}

function closeDetail() {
  state.selected = null;
  closeLog();
  $('detail').hidden = true;
  history.replaceState(null, '', location.pathname);
  render();
}

function stat(label, value) {
  const d = el('div', 'stat');
  d.appendChild(el('span', '', label));
  d.appendChild(el('b', '', value));
  return d;
}

function renderDetail(p) {
  const running = RUNNING.has(p.status);
  const pill = $('d-status');
  pill.replaceChildren(statusCell(p.status));
  if (!state.busy) {
    $('act-start').disabled = running;
    $('act-stop').disabled = !running && p.status !== 'stale';
    $('act-restart').disabled = p.status === 'invalid';
  }
  const pct = state.cpuPct.get(p.name);
  const stats = [
    stat('PID', running && p.pid ? String(p.pid) : '–'),
    stat('Port', p.port ? String(p.port) : '–'),
    stat('Uptime', duration(p.uptime)),
    stat('Restarts', String(p.restarts || 0)),
    stat('CPU', running && pct != null ? pct.toFixed(1) + '%' : '–'),
    stat('CPU time', cpuTime(p.cpu)),
    stat('Memory', running ? human(p.memory) : '–'),
    stat('Policy', p.restart || 'on-failure'),
  ];
  if (p.exit_code !== undefined) stats.push(stat('Last exit', String(p.exit_code)));
  else if (p.exit_signal) stats.push(stat('Last exit', 'SIG' + p.exit_signal));
  $('d-stats').replaceChildren(...stats);
  const cmd = [p.interpreter, p.script, p.args].filter(Boolean).join(' ');
  $('d-cmd').textContent = cmd + (p.cwd ? '   in ' + p.cwd : '');
  $('d-cmd').title = $('d-cmd').textContent;
  const dl = $('d-record');
  const frag = document.createDocumentFragment();
  for (const [k, v] of Object.entries(p)) {
    if (k === 'last_event') continue;
    frag.appendChild(el('dt', '', k));
    frag.appendChild(el('dd', '', typeof v === 'object' ? JSON.stringify(v) : String(v)));
  }
  dl.replaceChildren(frag);
  const key = p.last_event ? p.last_event.time + eventText(p.last_event) : '-';
  if (key !== state.lastEvent) {
    state.lastEvent = key;
    loadEvents(p.name);
  }
}

async function loadEvents(name) {
  try {
    const evs = await api('/processes/' + encodeURIComponent(name) + '/events?n=50');
    if (state.selected !== name) return;
    const frag = document.createDocumentFragment();
    for (const ev of evs.reverse()) {
      const li = el('li');
      li.appendChild(el('time', '', clock(ev.time)));
      const cls = ALARMING.has(ev.event) || (ev.event === 'exit' && ev.code && ev.code !== '0') ? ' bad' : CALM.has(ev.event) ? ' good' : '';
      li.appendChild(el('span', 'k' + cls, ev.event));
      const rest = eventText(ev).slice(ev.event.length + 1);
      const f = el('span', 'f', rest);
      f.title = rest;
      li.appendChild(f);
      frag.appendChild(li);
    }
    if (!evs.length) frag.appendChild(el('li', 'dim', 'no events yet'));
    $('events').replaceChildren(frag);
  } catch (e) {
    if (!unauthorized(e)) $('events').replaceChildren(el('li', 'dim', 'events: ' + e.message));
  }
}

// --- The log tail: SSE through fetch -------------------------------------------

function closeLog() {
  if (state.logAbort) state.logAbort.abort();
  state.logAbort = null;
}

function logState(text) { $('log-state').textContent = text; }

async function openLog(name) {
  closeLog();
  const ctl = new AbortController();
  state.logAbort = ctl;
  let n = 200, delay = 1000;
  while (!ctl.signal.aborted) {
    try {
      logState('connecting…');
      const res = await fetch('/v1/processes/' + encodeURIComponent(name) + '/log?follow=1&n=' + n, {
        headers: { Authorization: 'Bearer ' + token() }, signal: ctl.signal, cache: 'no-store',
      });
      if (res.status === 401) throw new Unauthorized();
      if (!res.ok) throw new Error(res.status + ' ' + res.statusText);
      logState('live');
      delay = 1000;
      await readEvents(res.body, (line) => { if (state.selected === name) addLine(line); });
    } catch (e) {
      if (ctl.signal.aborted) return;
      if (unauthorized(e)) return;
      logState('reconnecting…');
    }
    if (ctl.signal.aborted) return;
    // Lines written while we were away are skipped, and said to be.
    addMark('stream interrupted; reconnecting');
    n = 0;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

// readEvents parses a text/event-stream body, calling fn with each event's
// data parsed as JSON.
async function readEvents(body, fn) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(buf.slice(i).match(/^\r?\n\r?\n/)[0].length + i);
      const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data) continue;
      let obj;
      try { obj = JSON.parse(data); } catch { continue; }
      fn(obj);
    }
  }
}

function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 24; }

function addLine(l) {
  const box = $('log');
  const stick = atBottom(box);
  const d = el('div', 'l ' + (l.stream === 'err' ? 'e' : 'o'));
  d.appendChild(el('time', '', l.time ? clock(l.time) : ''));
  d.appendChild(el('span', '', l.line));
  box.appendChild(d);
  while (box.childElementCount > LOG_MAX) box.firstElementChild.remove();
  if (stick) box.scrollTop = box.scrollHeight;
  else $('log-end').hidden = false;
}

function addMark(text) {
  const box = $('log');
  box.appendChild(el('div', 'mark', '— ' + text + ' —'));
}

// --- Actions ------------------------------------------------------------------

let toastTimer = 0;
function toast(text, bad) {
  const t = $('toast');
  t.textContent = text;
  t.className = 'toast' + (bad ? ' bad' : '');
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 8000 : 3000);
}

async function act(action) {
  const name = state.selected;
  if (!name || state.busy) return;
  state.busy = true;
  for (const b of document.querySelectorAll('.actions button')) b.disabled = true;
  const label = { start: 'Starting', stop: 'Stopping', restart: 'Restarting' }[action];
  logState(label.toLowerCase() + '…');
  try {
    const res = await api('/processes/' + encodeURIComponent(name) + '/' + action, { method: 'POST' });
    toast((res.output && res.output.join('; ')) || name + ' ' + action);
    if (action !== 'stop') addMark(action === 'start' ? 'started' : 'restarted');
  } catch (e) {
    if (!unauthorized(e)) toast(name + ': ' + e.message, true);
  } finally {
    state.busy = false;
    logState('live');
    await refresh();
  }
}

// --- Wiring -------------------------------------------------------------------

function start() {
  $('host').textContent = location.host;
  document.title = 'tpm · ' + location.hostname;
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('token-input').value.trim();
    if (!v) return;
    sessionStorage.setItem(TOKEN_KEY, v);
    $('login').close();
    const want = decodeURIComponent(location.hash.slice(1));
    refresh().then(() => {
      if (state.selected) openLog(state.selected);
      else if (want && state.procs.some((p) => p.name === want)) select(want);
    });
  });
  $('login').addEventListener('cancel', (ev) => ev.preventDefault());
  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stopRefresh();
    closeLog();
    state.procs = [];
    render();
    askToken('');
  });
  $('rows').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr) select(tr.dataset.name);
  });
  $('counts').addEventListener('click', (ev) => {
    const c = ev.target.closest('.count');
    if (!c) return;
    state.onlyStatus = state.onlyStatus === c.dataset.status ? null : c.dataset.status;
    render();
  });
  document.querySelector('thead').addEventListener('click', (ev) => {
    const th = ev.target.closest('th');
    if (!th) return;
    const key = th.dataset.sort;
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : (['name', 'status', 'event'].includes(key) ? 1 : -1) };
    render();
  });
  $('filter').addEventListener('input', render);
  $('d-close').addEventListener('click', closeDetail);
  for (const b of document.querySelectorAll('.actions button')) b.addEventListener('click', () => act(b.dataset.action));
  const log = $('log');
  const toggles = () => {
    log.classList.toggle('hide-out', !$('show-out').checked);
    log.classList.toggle('hide-err', !$('show-err').checked);
    log.classList.toggle('wrap', $('wrap').checked);
  };
  for (const id of ['show-out', 'show-err', 'wrap']) $(id).addEventListener('change', toggles);
  $('log-clear').addEventListener('click', () => log.replaceChildren());
  $('log-end').addEventListener('click', () => { log.scrollTop = log.scrollHeight; $('log-end').hidden = true; });
  log.addEventListener('scroll', () => { if (atBottom(log)) $('log-end').hidden = true; });
  document.addEventListener('keydown', (ev) => {
    if (ev.target.matches('input') && ev.key !== 'Escape') return;
    if (ev.key === '/') { ev.preventDefault(); $('filter').focus(); }
    else if (ev.key === 'Escape') {
      if (document.activeElement === $('filter')) { $('filter').value = ''; $('filter').blur(); render(); }
      else if (state.selected) closeDetail();
    } else if (ev.key === 'j' || ev.key === 'k' || ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      const list = visible();
      if (!list.length) return;
      let i = list.findIndex((p) => p.name === state.selected);
      i = (ev.key === 'j' || ev.key === 'ArrowDown') ? Math.min(i + 1, list.length - 1) : Math.max(i - 1, 0);
      ev.preventDefault();
      select(list[i].name);
      const tr = document.querySelector('tr.sel');
      if (tr) tr.scrollIntoView({ block: 'nearest' });
    }
  });
  // No refresh while nobody looks: a hidden tab costs the server nothing.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refresh(); else stopRefresh();
  });
  if (!token()) { setLive(false, 'locked'); askToken(''); return; }
  const want = decodeURIComponent(location.hash.slice(1));
  refresh().then(() => { if (want && state.procs.some((p) => p.name === want)) select(want); });
}

start();
