// Storefront behaviour: search, order form, live order feed. No framework, and every
// value that came over the network is rendered with textContent, never as HTML.
'use strict';

const FEED_SIZE = 20;
const SEARCH_DEBOUNCE_MS = 150;
const SEARCH_LIMIT = 20;

const $ = (selector) => document.querySelector(selector);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// Every price shows its currency (docs/architecture.md, "Prices and currency"): an order
// names its own; catalogue prices are in the page's (body data-currency). The locale is
// fixed, so the script prints a price exactly as the server-rendered page does.
const moneyFormats = new Map();
function money(amount, currency) {
  const code = currency || document.body.dataset.currency || 'USD';
  if (!moneyFormats.has(code)) moneyFormats.set(code, new Intl.NumberFormat('en-US', { style: 'currency', currency: code }));
  return moneyFormats.get(code).format(Number(amount));
}

/** fetch + JSON, tolerating error bodies that are not JSON. */
async function requestJson(url, init) {
  const res = await fetch(url, init);
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return { ok: res.ok, status: res.status, body };
}

const errorMessage = (r) => (r.body && r.body.error && r.body.error.message) || `request failed (${r.status})`;

function productCard(p) {
  const li = el('li', 'product');
  li.dataset.productId = String(p.id);
  const row = el('p', 'row');
  row.append(el('span', 'price', money(p.price)), el('span', 'tag', p.category));
  const choose = el('button', 'choose', 'Order this');
  choose.type = 'button';
  choose.dataset.productId = String(p.id);
  choose.dataset.productName = p.name;
  li.append(el('h3', '', p.name), el('p', 'desc', p.description), row, choose);
  return li;
}

/**
 * Search as you type: requests go out SEARCH_DEBOUNCE_MS after the last keystroke (Enter
 * at once); each new one aborts the one in flight, and an answer that is not for the
 * latest request is dropped, so a slow answer for "la" never overwrites the one for
 * "lap". The results replace the product list and say how many matched; an empty box
 * (cleared, or Escape) brings the catalogue back.
 */
function setupSearch() {
  const form = $('#search-form');
  const input = $('#search-q');
  const panel = $('#search-results');
  const list = $('#search-list');
  const status = $('#search-status');
  const catalogue = $('#catalogue');
  let timer;
  let latest = 0;
  let inFlight;
  const show = (searching) => {
    panel.hidden = !searching;
    catalogue.hidden = searching;
  };
  const run = async () => {
    clearTimeout(timer);
    const q = input.value.trim();
    const mine = ++latest;
    if (inFlight) inFlight.abort();
    inFlight = undefined;
    if (!q) {
      show(false);
      list.replaceChildren();
      status.textContent = '';
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    show(true);
    status.textContent = `Searching for “${q}”…`;
    try {
      const r = await requestJson(`/api/search?q=${encodeURIComponent(q)}&limit=${SEARCH_LIMIT}`, { signal: controller.signal });
      if (mine !== latest) return; // a newer query has been sent since
      if (!r.ok) {
        list.replaceChildren();
        status.textContent = errorMessage(r);
        return;
      }
      const items = r.body.items || [];
      status.textContent = searchSummary(items.length, q);
      list.replaceChildren(...items.map(productCard));
    } catch {
      if (mine === latest) status.textContent = 'Search is unavailable right now.';
    } finally {
      if (inFlight === controller) inFlight = undefined;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  input.addEventListener('input', () => {
    clearTimeout(timer);
    // An emptied box restores the catalogue at once; typing waits for a pause.
    timer = setTimeout(run, input.value.trim() ? SEARCH_DEBOUNCE_MS : 0);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !input.value) return;
    event.preventDefault();
    input.value = '';
    run();
  });
}

function searchSummary(count, q) {
  if (count === 0) return `No products match “${q}”.`;
  if (count === SEARCH_LIMIT) return `The first ${count} products matching “${q}”: type more to narrow them.`;
  return `${count} ${count === 1 ? 'product matches' : 'products match'} “${q}”.`;
}

function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; plain http on a LAN address is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `customer.email` → the `email` input, `items[0].quantity` → `quantity`. */
function inputForField(form, field) {
  const name = String(field).split(/[.[\]]/).filter(Boolean).pop();
  return name ? form.elements.namedItem(name) : null;
}

function showOrderErrors(form, result, r) {
  result.className = 'result error';
  const details = (r.body && r.body.error && r.body.error.details) || [];
  const list = el('ul');
  for (const d of details) {
    list.append(el('li', '', `${d.field}: ${d.message}`));
    const input = inputForField(form, d.field);
    if (input && input.setAttribute) input.setAttribute('aria-invalid', 'true');
  }
  result.replaceChildren(el('p', '', errorMessage(r)), list);
}

function showOrder(result, order) {
  result.className = 'result ok';
  const lines = (order.items || []).map((i) => `${i.quantity} × ${i.name}`).join(', ');
  const id = el('code', 'order-id', order.id);
  result.replaceChildren(
    el('p', '', 'Order placed: '),
    el('p', 'meta', `${lines} — total ${money(order.total, order.currency)}`),
  );
  result.firstChild.append(id);
  result.dataset.orderId = order.id;
}

function setupOrderForm() {
  const form = $('#order-form');
  const result = $('#order-result');
  const button = form.querySelector('button[type="submit"]');
  // One key per distinct order: a retry of the same form reuses it, an edit makes a new one.
  let key = newIdempotencyKey();
  form.addEventListener('input', () => {
    key = newIdempotencyKey();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    const data = new FormData(form);
    const body = {
      customer: { email: String(data.get('email') || '').trim(), name: String(data.get('name') || '').trim() },
      items: [{ productId: Number(data.get('productId')), quantity: Number(data.get('quantity')) }],
    };
    button.disabled = true;
    result.className = 'result';
    result.textContent = 'Placing order…';
    try {
      const headers = { 'content-type': 'application/json', 'idempotency-key': key };
      const r = await requestJson('/api/orders', { method: 'POST', headers, body: JSON.stringify(body) });
      if (r.ok) {
        showOrder(result, r.body);
        key = newIdempotencyKey();
      } else {
        showOrderErrors(form, result, r);
      }
    } catch {
      result.className = 'result error';
      result.textContent = 'Could not reach the shop; your order was not placed. Try again.';
    } finally {
      button.disabled = false;
    }
  });
  // "Order this" on any product card (first page or search result) picks it in the form.
  document.addEventListener('click', (event) => {
    const target = event.target.closest && event.target.closest('button.choose');
    if (!target) return;
    const select = form.elements.namedItem('productId');
    const id = target.dataset.productId;
    if (![...select.options].some((o) => o.value === id)) {
      const name = target.dataset.productName || target.closest('.product').querySelector('h3').textContent;
      const option = el('option', '', name);
      option.value = id;
      select.append(option);
    }
    select.value = id;
    key = newIdempotencyKey();
    form.elements.namedItem('email').focus();
  });
}

function feedItem(order) {
  const li = el('li', 'feed-item');
  li.dataset.messageId = order.messageId;
  const what = (order.items || []).map((i) => `${i.quantity} × ${i.name}`).join(', ');
  const when = new Date(order.consumedAt || order.createdAt);
  li.append(
    el('strong', '', order.customerName),
    el('span', '', ` ordered ${what}`),
    el('span', 'price', money(order.total, order.currency)),
    el('time', 'meta', Number.isNaN(when.getTime()) ? '' : when.toLocaleTimeString()),
  );
  return li;
}

function setupFeed() {
  const list = $('#feed');
  const state = $('#feed-state');
  const setState = (text, cls) => {
    state.textContent = text;
    state.className = `pill ${cls}`;
  };
  if (!('EventSource' in window)) return setState('unsupported', 'off');
  const source = new EventSource('/api/orders/stream');
  source.addEventListener('open', () => setState('live', 'on'));
  source.addEventListener('error', () => setState('reconnecting…', 'off'));
  source.addEventListener('order', (event) => {
    let order;
    try {
      order = JSON.parse(event.data);
    } catch {
      return;
    }
    // EventSource resends history after a reconnect; show each order once.
    if ([...list.children].some((li) => li.dataset.messageId === order.messageId)) return;
    list.prepend(feedItem(order));
    while (list.children.length > FEED_SIZE) list.lastElementChild.remove();
  });
}

setupSearch();
setupOrderForm();
setupFeed();
