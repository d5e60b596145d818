// API Studio: lists Clockify's operations (from the page's JSON data), builds a form for the one
// picked, runs it through POST /ui/api-studio/call with the viewer's user token in X-Addon-Token,
// and shows the answer. The token Clockify put in the iframe URL expires after 30 minutes; the
// page then asks Clockify for a fresh one (the `refreshAddonToken` window message) and retries
// once, or asks the user to reopen the page. Every element is built with textContent: nothing
// from the spec or from Clockify's answers is ever parsed as HTML.
(() => {
  'use strict';

  const data = JSON.parse(document.getElementById('api-studio-data').textContent);
  let token = new URLSearchParams(window.location.search).get('auth_token') || '';
  const opsEl = document.getElementById('ops');
  const detailEl = document.getElementById('detail');
  const filterEl = document.getElementById('filter');
  const sessionEl = document.getElementById('session');
  const byId = new Map();

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // --- the list, grouped by tag -------------------------------------------------------------
  for (const group of data.groups) {
    const list = el('ul');
    for (const op of group.operations) {
      byId.set(op.operationId, op);
      const button = el(
        'button',
        { type: 'button', 'data-op': op.operationId, title: `${op.method} ${op.path}` },
        el('span', { class: `method ${op.method}`, text: op.method }),
        document.createTextNode(` ${op.summary || op.operationId}`),
      );
      button.addEventListener('click', () => show(op));
      list.append(
        el('li', { 'data-search': `${group.tag} ${op.operationId} ${op.summary} ${op.path}`.toLowerCase() }, button),
      );
    }
    opsEl.append(
      el(
        'details',
        { 'data-tag': group.tag },
        el('summary', { text: `${group.tag} (${group.operations.length})` }),
        list,
      ),
    );
  }

  filterEl.addEventListener('input', () => {
    const q = filterEl.value.trim().toLowerCase();
    for (const details of opsEl.querySelectorAll('details')) {
      let shown = 0;
      for (const li of details.querySelectorAll('li')) {
        const match = q === '' || li.getAttribute('data-search').includes(q);
        li.classList.toggle('hidden', !match);
        if (match) shown += 1;
      }
      details.classList.toggle('hidden', shown === 0);
      details.open = q !== '' && shown > 0;
    }
  });

  // --- one operation ------------------------------------------------------------------------
  function show(op) {
    detailEl.replaceChildren();
    detailEl.append(
      el(
        'h2',
        {},
        el('span', { class: `method ${op.method}`, text: op.method }),
        document.createTextNode(` ${op.path}`),
      ),
      el('p', { class: 'sub', text: `${op.summary || ''} (${op.operationId})` }),
    );
    if (op.description) detailEl.append(el('p', { class: 'desc', text: op.description }));
    const inputs = [];
    for (const p of op.params) {
      const id = `p-${p.in}-${p.name}`;
      let input;
      if (p.enum) {
        input = el('select', { id }, el('option', { value: '', text: '' }));
        for (const v of p.enum) input.append(el('option', { value: v, text: v }));
      } else if (p.type === 'boolean') {
        input = el(
          'select',
          { id },
          el('option', { value: '', text: '' }),
          el('option', { value: 'true', text: 'true' }),
          el('option', { value: 'false', text: 'false' }),
        );
      } else {
        input = el('input', {
          id,
          type: p.type === 'integer' || p.type === 'number' ? 'number' : 'text',
          placeholder: p.default !== undefined ? String(p.default) : p.type,
        });
      }
      inputs.push({ param: p, input });
      detailEl.append(
        el(
          'label',
          { for: id },
          document.createTextNode(`${p.name} `),
          el('span', { class: 'desc', text: `(${p.in}, ${p.type})` }),
          p.required ? el('span', { class: 'req', text: ' required' }) : null,
        ),
        input,
      );
      if (p.description) detailEl.append(el('div', { class: 'desc', text: p.description }));
    }
    let bodyInput;
    if (op.body) {
      bodyInput = el('textarea', { id: 'p-body', placeholder: '{ }', spellcheck: 'false' });
      detailEl.append(
        el(
          'label',
          { for: 'p-body' },
          document.createTextNode('body (JSON) '),
          op.body.required ? el('span', { class: 'req', text: 'required' }) : null,
        ),
        bodyInput,
      );
    }
    const run = el('button', { type: 'button', id: 'run', text: op.write ? `Send ${op.method}` : 'Run' });
    const actions = el('div', { class: 'actions' }, run);
    detailEl.append(actions);
    const result = el('section', { id: 'result', 'aria-live': 'polite' });
    detailEl.append(result);
    if (op.write && !data.allowWrites) {
      run.disabled = true;
      actions.append(
        el('p', {
          class: 'note',
          id: 'writes-off',
          text: 'Writes are off for this workspace. An admin can turn on "Allow API Studio writes" in the add-on\u2019s settings.',
        }),
      );
      return;
    }
    let confirming = false;
    run.addEventListener('click', async () => {
      let request;
      try {
        request = buildRequest(op, inputs, bodyInput);
      } catch (err) {
        showError(result, err.message);
        return;
      }
      if (op.write && !confirming) {
        confirming = true;
        run.textContent = `Confirm: ${op.method} ${op.operationId} changes your workspace`;
        run.id = 'confirm';
        return;
      }
      if (op.write) request.confirmWrite = true;
      confirming = false;
      run.textContent = op.write ? `Send ${op.method}` : 'Run';
      run.id = 'run';
      run.disabled = true;
      result.replaceChildren(el('p', { class: 'hint', text: 'Running\u2026' }));
      try {
        showAnswer(result, await send(request));
      } catch (err) {
        showError(result, err.message);
      } finally {
        run.disabled = false;
      }
    });
  }

  function buildRequest(op, inputs, bodyInput) {
    const path = {};
    const query = {};
    for (const { param, input } of inputs) {
      const value = input.value.trim();
      if (value === '') continue;
      if (param.in === 'path') path[param.name] = value;
      else query[param.name] = param.type.startsWith('array') ? value.split(',').map((v) => v.trim()) : value;
    }
    const request = { operation: op.operationId, path, query };
    if (bodyInput && bodyInput.value.trim() !== '') {
      try {
        request.body = JSON.parse(bodyInput.value);
      } catch (err) {
        throw new Error(`The body is not JSON: ${err.message}`);
      }
    }
    return request;
  }

  // --- calls and the token ------------------------------------------------------------------
  async function post(request) {
    const res = await fetch(data.callPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-addon-token': token },
      body: JSON.stringify(request),
      credentials: 'omit',
    });
    let body;
    try {
      body = await res.json();
    } catch {
      body = { error: { code: 'bad_answer', message: `the server answered ${res.status}` } };
    }
    return { status: res.status, body };
  }

  async function send(request) {
    let answer = await post(request);
    if (answer.status === 401 && answer.body.error && answer.body.error.code === 'expired') {
      if (await refreshToken(true)) answer = await post(request);
    }
    return answer;
  }

  /** Whether a message's origin is one allowed to frame this page (`https://*.clockify.me` style patterns). */
  function trustedOrigin(origin) {
    return (data.refreshOrigins || []).some((pattern) => {
      if (pattern === origin) return true;
      const m = /^(https?:\/\/)\*\.(.+)$/.exec(pattern);
      return m !== null && origin.startsWith(m[1]) && origin.endsWith(`.${m[2]}`);
    });
  }

  /**
   * Asks Clockify for a fresh user token; resolves true once one arrived (within 5 s). Only when
   * the token has expired (`expiredNow`) does a missing answer tell the user to reopen the page.
   */
  function refreshToken(expiredNow) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        window.removeEventListener('message', onMessage);
        if (expiredNow) {
          sessionEl.textContent = 'Your session has expired. Close API Studio and open it again.';
          sessionEl.classList.remove('hidden');
        }
        resolve(false);
      }, 5000);
      function onMessage(event) {
        if (event.source !== window.top && event.source !== window.parent) return;
        if (!trustedOrigin(event.origin)) return;
        let message = event.data;
        if (typeof message === 'string') {
          try {
            message = JSON.parse(message);
          } catch {
            return;
          }
        }
        if (!message || typeof message !== 'object') return;
        const kind = message.title || message.action;
        const fresh = message.body || message.payload;
        if (kind !== 'refreshAddonToken' || typeof fresh !== 'string' || fresh.split('.').length !== 3) return;
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
        token = fresh;
        sessionEl.classList.add('hidden');
        scheduleRefresh();
        resolve(true);
      }
      window.addEventListener('message', onMessage);
      if (window.top && window.top !== window)
        window.top.postMessage(JSON.stringify({ action: 'refreshAddonToken' }), '*');
    });
  }

  /** Refreshes a minute before the token's `exp`, so a form filled slowly still runs. */
  let refreshTimer;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    try {
      const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      if (typeof payload.exp !== 'number') return;
      const inMs = payload.exp * 1000 - Date.now() - 60_000;
      if (inMs > 0 && inMs < 2 ** 31 - 1) refreshTimer = setTimeout(() => void refreshToken(false), inMs);
    } catch {
      // not a JWT we can read: the 401 path still refreshes
    }
  }
  scheduleRefresh();

  // --- answers ------------------------------------------------------------------------------
  function showAnswer(result, answer) {
    result.replaceChildren();
    const b = answer.body;
    if (answer.status >= 200 && answer.status < 300) {
      result.append(
        el('p', {
          class: 'sub',
          id: 'status',
          text: `${b.status} \u00b7 ${Math.round(b.durationMs)} ms \u00b7 audit ${b.auditId}`,
        }),
        el('pre', { id: 'response', text: JSON.stringify(b.data, null, 2) ?? '(no content)' }),
      );
      return;
    }
    const e = b.error || {};
    const box = el(
      'div',
      { class: 'error', id: 'error' },
      el('strong', { text: `${answer.status} ${e.code || ''}` }),
      el('div', { text: e.message || '' }),
    );
    for (const p of e.problems || [])
      box.append(el('div', { text: `\u2022 ${p.in}${p.name ? ` ${p.name}` : ''}: ${p.message}` }));
    if (e.clockifyStatus) box.append(el('div', { text: `Clockify answered ${e.clockifyStatus}.` }));
    if (e.auditId) box.append(el('div', { class: 'desc', text: `audit ${e.auditId}` }));
    result.append(box);
  }

  function showError(result, message) {
    result.replaceChildren(el('div', { class: 'error', id: 'error', text: message }));
  }
})();
