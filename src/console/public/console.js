// The ecom console page (docs/architecture.md, "Console"). Plain browser JavaScript, no
// build step. Everything shown comes from the console server's /api and is put on the
// page with textContent or DOM properties, never as HTML.
'use strict';

const STATUS_REFRESH_MS = 2000;
const CHART_REFRESH_MS = 10000;
const MAX_LOG_LINES = 500;
const PALETTE = ['#2f6fde', '#d9480f', '#2b8a3e', '#9c36b5', '#c92a2a', '#1098ad', '#e67700', '#5c7cfa', '#a61e4d', '#087f5b', '#495057', '#f08c00'];

const $ = (id) => document.getElementById(id);

/** An element with a class and text; children appended. */
function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  if (options.title) node.title = options.title;
  for (const child of children) node.append(child);
  return node;
}

function showProblem(id, text) {
  const node = $(id);
  node.hidden = !text;
  node.textContent = text || '';
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(body && body.error ? body.error.message : `${path} answered ${res.status}`);
  return body;
}

// ---- numbers -------------------------------------------------------------------------

function formatValue(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (unit === 'percentunit') return `${(value * 100).toFixed(1)}%`;
  if (unit === 's') {
    if (value < 0.001) return `${Math.round(value * 1e6)}µs`;
    if (value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 1 : 0)}ms`;
    return `${value.toFixed(2)}s`;
  }
  const text = value === 0 ? '0' : Math.abs(value) < 10 ? value.toFixed(2) : Math.abs(value) < 100 ? value.toFixed(1) : value.toFixed(0);
  return unit === 'reqps' || unit === 'ops' ? `${text}/s` : text;
}

// ---- status --------------------------------------------------------------------------

/** up, degraded, starting or down, as a person would say it. */
function serviceCondition(s) {
  if (s.state === 'stopped' || s.state === 'crashed' || s.health === 'unreachable' || s.health === 'unavailable') {
    return s.state === 'starting' || s.state === 'restarting' ? 'starting' : 'down';
  }
  if (s.health === 'degraded') return 'degraded';
  if (s.state !== 'running') return 'starting';
  return 'up';
}

/** `42s`, `3m05s`, `2h07m`, as `ecom status` writes it. */
function formatUptime(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

function describeDetail(d) {
  if (!d) return '';
  if (d.kind === 'process') return [d.pid ? `pid ${d.pid}` : '', d.uptimeSeconds !== undefined ? `up ${formatUptime(d.uptimeSeconds)}` : ''].filter(Boolean).join(', ');
  return (d.pods || []).map((p) => `${p.name} ${p.reason || p.phase}${p.ready ? '' : ' (not ready)'}`).join('; ') || 'no pods';
}

function toneOf(word) {
  if (['running', 'ok', 'external', 'ready'].includes(word)) return 'tone-ok';
  if (['degraded', 'starting', 'restarting'].includes(word)) return 'tone-warn';
  if (['stopped', 'crashed', 'unavailable', 'unreachable', 'missing'].includes(word)) return 'tone-fail';
  return '';
}

function renderServices(services) {
  const rows = services.map((s) => {
    const condition = serviceCondition(s);
    const m = s.metrics || {};
    const row = el('tr', { className: condition === 'down' ? 'down' : '' }, [
      el('td', { text: s.name }),
      el('td', {}, [el('span', { className: `badge ${condition}`, text: condition })]),
      el('td', { className: toneOf(s.state), text: s.state }),
      el('td', { className: toneOf(s.health), text: s.health }),
      el('td', { className: 'num', text: `${s.ready}/${s.desired}` }),
      el('td', { className: 'num', text: s.restarts }),
      el('td', { className: 'num', text: formatValue(m.requestsPerSecond, 'short') }),
      el('td', { className: 'num', text: formatValue(m.p95Seconds, 's') }),
      el('td', { className: `num ${m.errorRatio > 0 ? 'tone-fail' : ''}`, text: formatValue(m.errorRatio, 'percentunit') }),
      el('td', { className: 'detail', text: describeDetail(s.detail) }),
    ]);
    row.dataset.service = s.name;
    row.dataset.condition = condition;
    return row;
  });
  $('services').tBodies[0].replaceChildren(...rows);
  const measured = services.find((s) => s.metrics);
  $('metrics-source').textContent = !measured
    ? 'no request numbers: no service answered'
    : measured.metrics.source === 'prometheus'
      ? `req/s, p95 and errors (5xx share) from Prometheus's recorded series over the last ${measured.metrics.windowSeconds / 60} minutes`
      : `req/s, p95 and errors (5xx share) from two /metrics scrapes ${measured.metrics.windowSeconds.toFixed(1)} s apart (no Prometheus)`;
}

function renderDependencies(deps) {
  $('dependencies').tBodies[0].replaceChildren(
    ...deps.map((d) => el('tr', {}, [el('td', { text: d.name }), el('td', { className: toneOf(d.state), text: d.state }), el('td', { className: 'detail', text: d.detail })])),
  );
}

function renderAlerts(alerts) {
  const list = $('alerts');
  if (!alerts) {
    $('alerts-summary').textContent = 'unknown: no Prometheus answers';
    list.replaceChildren();
    return;
  }
  $('alerts-summary').textContent = alerts.length === 0 ? 'none firing' : `${alerts.length} firing`;
  list.replaceChildren(
    ...alerts.map((a) =>
      el('li', {}, [
        el('span', { className: `name ${a.severity === 'page' ? 'page' : 'ticket'}`, text: a.name }),
        el('span', { className: 'meta', text: [a.severity, a.service, a.activeAt ? `since ${new Date(a.activeAt).toLocaleTimeString()}` : ''].filter(Boolean).join(' · ') }),
        el('div', { text: a.summary || '' }),
      ]),
    ),
  );
}

/** Links only to http(s) URLs the status names: nothing else becomes an href. */
function renderLinks(endpoints) {
  const targets = endpoints
    ? [['shop', endpoints.services && endpoints.services.frontend], ['prometheus', endpoints.prometheus], ['grafana', endpoints.grafana], ['rabbitmq', endpoints.brokerManagement]]
    : [];
  const links = [];
  for (const [label, url] of targets) {
    if (!url) continue;
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
    const a = el('a', { text: label });
    a.href = parsed.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    links.push(a);
  }
  $('links').replaceChildren(...links);
}

/** The last status read, so the charts know whether there is a Prometheus to ask. */
let lastStatus;

async function refreshStatus() {
  try {
    const status = await getJson('/api/status');
    lastStatus = status;
    showProblem('problem', status.running ? '' : 'The system is not running (start it with ecom up).');
    $('runtime').textContent = `runtime ${status.runtime}`;
    renderServices(status.services);
    renderDependencies(status.dependencies);
    renderAlerts(status.alerts);
    renderLinks(status.endpoints);
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    showProblem('problem', `The console cannot read the status: ${err.message}`);
  } finally {
    setTimeout(refreshStatus, STATUS_REFRESH_MS);
  }
}

// ---- charts --------------------------------------------------------------------------

const charts = new Map();

function createChartCard(chart) {
  const plot = el('div', { className: 'plot' }, [el('div', { className: 'empty', text: 'loading…' })]);
  const card = el('article', { className: 'chart' }, [el('h3', { text: chart.title }), el('p', { className: 'meta', text: chart.description }), plot]);
  card.dataset.chart = chart.id;
  card.dataset.points = '0';
  $('charts').append(card);
  charts.set(chart.id, { chart, card, plot, uplot: undefined, names: '' });
}

function drawChart(entry, data) {
  const points = data.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  entry.card.dataset.points = String(points);
  entry.card.dataset.series = String(data.series.length);
  if (data.series.length === 0) {
    entry.uplot?.destroy();
    entry.uplot = undefined;
    entry.names = '';
    entry.plot.replaceChildren(el('div', { className: 'empty', text: lastStatus && lastStatus.endpoints && lastStatus.endpoints.prometheus ? 'no data yet' : 'no Prometheus' }));
    return;
  }
  const aligned = [data.xs, ...data.series.map((s) => s.values)];
  const names = data.series.map((s) => s.name).join('\n');
  if (entry.uplot && entry.names === names) return entry.uplot.setData(aligned);
  entry.uplot?.destroy();
  entry.plot.replaceChildren();
  entry.names = names;
  const unit = entry.chart.unit;
  entry.uplot = new uPlot(
    {
      width: Math.max(300, entry.plot.clientWidth),
      height: 200,
      series: [{}, ...data.series.map((s, i) => ({ label: s.name, stroke: PALETTE[i % PALETTE.length], width: 1.5, value: (_u, v) => formatValue(v, unit) }))],
      axes: [{}, { size: 64, values: (_u, ticks) => ticks.map((v) => formatValue(v, unit)) }],
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    },
    aligned,
    entry.plot,
  );
}

async function refreshCharts() {
  if (lastStatus && lastStatus.running && !(lastStatus.endpoints && lastStatus.endpoints.prometheus)) {
    showProblem('charts-problem', 'Prometheus is not running here, so there is nothing to chart (install it and run ecom up again).');
    for (const entry of charts.values()) drawChart(entry, { xs: [], series: [] });
    setTimeout(refreshCharts, CHART_REFRESH_MS);
    return;
  }
  let problem = '';
  await Promise.all(
    [...charts.values()].map(async (entry) => {
      try {
        drawChart(entry, await getJson(`/api/charts/${encodeURIComponent(entry.chart.id)}`));
      } catch (err) {
        problem = err.message;
      }
    }),
  );
  showProblem('charts-problem', problem);
  setTimeout(refreshCharts, CHART_REFRESH_MS);
}

async function startCharts() {
  try {
    for (const chart of await getJson('/api/charts')) createChartCard(chart);
  } catch (err) {
    showProblem('charts-problem', err.message);
    return;
  }
  await refreshCharts();
  window.addEventListener('resize', () => {
    for (const entry of charts.values()) entry.uplot?.setSize({ width: Math.max(300, entry.plot.clientWidth), height: 200 });
  });
}

// ---- logs ----------------------------------------------------------------------------

function logVisible(service) {
  const only = $('logs-service').value;
  return !only || only === service;
}

function appendLog(event) {
  if ($('logs-pause').checked) return;
  const list = $('logs');
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  const time = event.time ? new Date(event.time).toLocaleTimeString() : '';
  const item = el('li', { className: event.level ? `level-${event.level}` : '' }, [
    el('span', { className: 'time', text: time }),
    el('span', { className: 'service', text: event.pod ? `${event.service} ${event.pod}` : event.service }),
    el('span', { text: event.msg !== undefined ? [event.level, event.msg, event.detail].filter(Boolean).join(' ') : event.line }),
  ]);
  item.title = event.line;
  item.dataset.service = event.service;
  if (!logVisible(event.service)) item.classList.add('hidden');
  list.append(item);
  while (list.children.length > MAX_LOG_LINES) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function startLogs() {
  const source = new EventSource('/api/logs');
  source.addEventListener('open', () => ($('logs-state').textContent = 'live'));
  source.addEventListener('start', () => $('logs').replaceChildren());
  source.addEventListener('message', (e) => appendLog(JSON.parse(e.data)));
  source.addEventListener('failure', (e) => ($('logs-state').textContent = `log reader failed: ${JSON.parse(e.data).message}`));
  source.addEventListener('error', () => ($('logs-state').textContent = 'reconnecting…'));
  $('logs-service').addEventListener('change', () => {
    for (const item of $('logs').children) item.classList.toggle('hidden', !logVisible(item.dataset.service));
  });
}

// The charts wait for the first status: it says whether there is a Prometheus to ask.
refreshStatus().finally(startCharts);
startLogs();
