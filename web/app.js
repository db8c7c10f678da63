// The dashboard: one page over the public API (the same routes as the guide's clients). No framework, no
// build step. Every value from the server is put in the page as text, never as HTML.
import { hasText, translator } from './i18n.js';
import { parseQuestionSet, QuestionSetError } from './question-set.js';

const API = '/api/v0/data_pipeline';
const STEPS = ['ddl_generation', 'qa_generation', 'sql_validation', 'training_load'];
const LIST_REFRESH_MS = 3000;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let lang = params.get('lang') ?? localStorage.getItem('dp.lang') ?? 'zh';
if (!['zh', 'en'].includes(lang)) lang = 'zh';
let t = translator(lang);
let selectedTaskId = null;
let following = null; // AbortController of the open event stream
let lastDetail = null;

class ApiError extends Error {
  constructor(status, envelope) {
    super(envelope?.message ?? `HTTP ${status}`);
    this.status = status;
    this.envelope = envelope;
  }
}

const storedKey = () => localStorage.getItem('dp.apiKey');

function headers(json) {
  const h = { 'Accept-Language': lang };
  const key = storedKey();
  if (key) h.Authorization = `Bearer ${key}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function api(method, path, body, signal) {
  const sentKey = storedKey();
  const response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  const envelope = await response.json().catch(() => null);
  // Only a refusal of the key we still hold asks again (answers to requests sent before a new key was set do not).
  if (response.status === 401 && sentKey === storedKey()) needKey();
  if (!response.ok || !envelope?.success) throw new ApiError(response.status, envelope);
  return envelope.data;
}

// One prompt at a time, however many requests were refused; after "cancel", none until the key button.
let keyPromptPending = false;
let keyDismissed = false;
function needKey() {
  if (keyPromptPending || keyDismissed) return;
  keyPromptPending = true;
  setTimeout(askForKey, 0);
}

function askForKey() {
  keyPromptPending = true;
  const key = prompt(t('apiKeyPrompt'), storedKey() ?? '');
  keyPromptPending = false;
  if (key === null) {
    keyDismissed = true;
    return;
  }
  keyDismissed = false;
  if (key.trim()) localStorage.setItem('dp.apiKey', key.trim());
  else localStorage.removeItem('dp.apiKey');
  refreshAll();
}

/** Text of an API failure: the envelope's message plus its details. */
function describe(error) {
  if (!(error instanceof ApiError)) return String(error?.message ?? error);
  const failure = error.envelope?.error;
  return [error.message, failure?.code, failure?.details].filter(Boolean).join(' · ');
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const statusBadge = (status) => el('span', { class: `badge s-${status}`, 'data-status': status }, t(`status.${status}`));

// ------------------------------------------------------------------------------------------ texts

function applyTexts() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  $('lang').value = lang;
}

// ----------------------------------------------------------------------------------- header bits

async function refreshHealth() {
  try {
    await api('GET', '/api/v0/health');
    $('health').className = 'badge s-ok';
    $('health').textContent = t('healthOk');
  } catch (error) {
    const keyMissing = error instanceof ApiError && error.status === 401;
    $('health').className = keyMissing ? 'badge s-cancelled' : 'badge s-down';
    $('health').textContent = t(keyMissing ? 'keyRequired' : 'healthDown');
  }
  try {
    const stats = await api('GET', `${API}/vector/stats`);
    $('vector-stats').textContent = t('vectorStats', { total: stats.total });
  } catch {
    $('vector-stats').textContent = '';
  }
}

// ------------------------------------------------------------------------------------- new task

async function loadTables() {
  const form = $('task-form');
  $('tables-status').textContent = t('tablesLoading');
  $('load-tables').disabled = true;
  try {
    const db_connection = form.db_connection.value.trim() || undefined;
    const data = await api('POST', '/api/v0/database/tables', { db_connection });
    const options = $('table-options');
    options.replaceChildren(...data.tables.map((name) => el('label', {}, el('input', { type: 'checkbox', value: name, checked: true }), ' ', name)));
    $('select-all-tables').checked = true;
    $('table-picker').hidden = data.tables.length === 0;
    $('tables-status').textContent = t('tablesFound', { n: data.total });
    if (!form.db_name.value && data.db_connection_info?.database) form.db_name.value = data.db_connection_info.database;
  } catch (error) {
    $('tables-status').textContent = '';
    $('form-error').textContent = describe(error);
  } finally {
    $('load-tables').disabled = false;
  }
}

function chosenTables(form) {
  const picked = [...$('table-options').querySelectorAll('input:checked')].map((box) => box.value);
  const typed = form.table_names.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
  return [...new Set([...picked, ...typed])];
}

async function createAndRun(event) {
  event.preventDefault();
  const form = $('task-form');
  $('form-error').textContent = '';
  const tables = chosenTables(form);
  if (tables.length === 0) {
    $('form-error').textContent = t('needTables');
    return;
  }
  const text = (name) => form[name].value.trim() || undefined;
  const flag = (name) => form[name].checked;
  $('run-button').disabled = true;
  let taskId = null;
  try {
    const task = await api('POST', `${API}/tasks`, {
      task_name: text('task_name'),
      db_connection: text('db_connection'),
      db_name: text('db_name'),
      business_context: text('business_context'),
      enable_sql_validation: flag('enable_sql_validation'),
      enable_llm_repair: flag('enable_llm_repair'),
      enable_training_data_load: flag('enable_training_data_load'),
      backup_vector_tables: flag('backup_vector_tables'),
      truncate_vector_tables: flag('truncate_vector_tables'),
    });
    taskId = task.task_id;
    await api('POST', `${API}/tasks/${encodeURIComponent(taskId)}/table-list`, { table_names: tables });
    await api('POST', `${API}/tasks/${encodeURIComponent(taskId)}/execute`, { execution_mode: 'complete' });
    await refreshTasks();
    selectTask(taskId);
  } catch (error) {
    // A task that was created stays (with what it got): shown, so that it can be fixed and run from there.
    $('form-error').textContent = taskId ? `${t('createdButNotRun', { task: taskId })}\n${describe(error)}` : describe(error);
    if (taskId) {
      await refreshTasks();
      selectTask(taskId);
    }
  } finally {
    $('run-button').disabled = false;
  }
}

// ------------------------------------------------------------------------------------ task list

async function refreshTasks() {
  let data;
  try {
    data = await api('GET', `${API}/tasks?limit=50`);
  } catch {
    return;
  }
  const rows = data.tasks.map((task) =>
    el(
      'tr',
      { class: task.task_id === selectedTaskId ? 'selected' : '', 'data-task-id': task.task_id, onclick: () => selectTask(task.task_id) },
      el('td', {}, el('div', {}, task.task_name ?? task.task_id), el('div', { class: 'muted' }, task.task_id)),
      el('td', {}, statusBadge(task.status)),
      el('td', { class: 'dots' }, ...STEPS.map((step) => el('span', { class: `s-${task.step_status?.[step] ?? 'pending'}`, title: `${t(`step.${step}`)}: ${t(`status.${task.step_status?.[step] ?? 'pending'}`)}` }))),
      el('td', { class: 'muted' }, task.created_at ?? ''),
    ),
  );
  $('task-rows').replaceChildren(...rows);
  $('no-tasks').hidden = rows.length > 0;
}

// ---------------------------------------------------------------------------------- task detail

function selectTask(taskId) {
  selectedTaskId = taskId;
  lastDetail = null;
  for (const row of $('task-rows').children) row.classList.toggle('selected', row.dataset.taskId === taskId);
  $('detail').hidden = false;
  $('detail-title').textContent = taskId;
  $('detail-error').textContent = '';
  $('detail-status').replaceWith(Object.assign(el('span', { class: 'badge', 'data-testid': 'detail-status' }), { id: 'detail-status' }));
  for (const id of ['steps', 'files', 'logs', 'map-detail']) $(id).replaceChildren();
  resetMap();
  resetPairs();
  resetCharts();
  following?.abort();
  following = new AbortController();
  const signal = following.signal;
  const current = () => !signal.aborted && taskId === selectedTaskId;
  (async () => {
    try {
      const task = await api('GET', `${API}/tasks/${encodeURIComponent(taskId)}`, undefined, signal);
      if (!current()) return;
      renderDetail(task);
      loadCharts(taskId);
      const [logOffset] = await Promise.all([loadLogs(taskId, signal), loadFiles(taskId, signal)]);
      await followEvents(taskId, signal, logOffset);
    } catch (error) {
      if (current()) $('detail-error').textContent = describe(error);
    }
  })();
}

function renderDetail(task) {
  lastDetail = task;
  $('detail-title').textContent = task.task_name ? `${task.task_name} (${task.task_id})` : task.task_id;
  const badge = statusBadge(task.status);
  badge.id = 'detail-status';
  badge.dataset.testid = 'detail-status';
  $('detail-status').replaceWith(badge);
  $('detail-error').textContent = task.error_message ?? '';
  const running = task.status === 'in_progress';
  $('cancel-button').hidden = !running;
  $('execute-button').hidden = running;
  const byName = Object.fromEntries((task.steps ?? []).map((s) => [s.step_name, s]));
  $('steps').replaceChildren(
    ...STEPS.map((step) => {
      const info = byName[step];
      const status = info?.step_status ?? task.step_status?.[step] ?? 'pending';
      const progress = info?.progress;
      const counters = info?.counters && Object.keys(info.counters).length ? Object.entries(info.counters).map(([k, v]) => `${k} ${v}`).join(' · ') : '';
      return el(
        'li',
        { 'data-step': step },
        el('strong', {}, t(`step.${step}`)),
        ' ',
        statusBadge(status),
        running ? null : el('button', { type: 'button', class: 'step-run', onclick: () => executeSelected({ execution_mode: 'step', step_name: step }) }, t('runStep')),
        progress && progress.total > 0 ? el('div', {}, el('progress', { max: progress.total, value: progress.done }), ` ${progress.done}/${progress.total} ${progress.unit ?? ''}`) : null,
        counters ? el('div', { class: 'muted' }, counters) : null,
        info?.error_message ? el('div', { class: 'error' }, info.error_message) : null,
      );
    }),
  );
}

async function loadFiles(taskId, signal) {
  const data = await api('GET', `${API}/tasks/${encodeURIComponent(taskId)}/files`, undefined, signal);
  if (taskId !== selectedTaskId) return;
  const items = data.files.map((file) =>
    el('li', {}, el('a', { href: file.download_url, onclick: (event) => download(event, file) }, file.file_name), el('span', { class: 'muted' }, ` ${file.file_size_human}`)),
  );
  $('files').replaceChildren(...(items.length ? items : [el('li', { class: 'muted' }, t('noFiles'))]));
}

/** With an API key a plain link would be refused: fetch with the header, then save the blob. */
async function download(event, file) {
  if (!storedKey()) return;
  event.preventDefault();
  const response = await fetch(file.download_url, { headers: headers(false) });
  if (!response.ok) {
    const envelope = await response.json().catch(() => null);
    $('detail-error').textContent = describe(new ApiError(response.status, envelope));
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  el('a', { href: url, download: file.file_name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function logLine(entry) {
  if (entry.continuation !== undefined) return el('div', {}, entry.continuation);
  return el('div', { class: entry.level }, `${entry.timestamp} [${entry.level}] ${entry.logger ?? ''}: ${entry.message}`);
}

async function loadLogs(taskId, signal) {
  const data = await api('GET', `${API}/tasks/${encodeURIComponent(taskId)}/logs?limit=200`, undefined, signal);
  if (taskId !== selectedTaskId) return undefined;
  $('logs').replaceChildren(...data.logs.map(logLine));
  $('logs').scrollTop = $('logs').scrollHeight;
  return data.log_offset;
}

/**
 * Server-Sent Events read through fetch, so that an API key can go in a header (EventSource cannot). The
 * log is followed from where the snapshot ended (log_offset): no line lost or shown twice. A stream that
 * drops is opened again, after a fresh snapshot, while the task is shown.
 */
async function followEvents(taskId, signal, logOffset) {
  let offset = logOffset;
  while (!signal.aborted && taskId === selectedTaskId) {
    try {
      if (offset === null) offset = await loadLogs(taskId, signal);
      await readEvents(taskId, signal, offset);
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError) {
        $('detail-error').textContent = describe(error);
        if (error.status === 401 || error.status === 404) return;
      }
    }
    offset = null;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function readEvents(taskId, signal, logOffset) {
  const query = typeof logOffset === 'number' ? `?log_offset=${logOffset}` : '';
  const response = await fetch(`${API}/tasks/${encodeURIComponent(taskId)}/events${query}`, { headers: headers(false), signal });
  if (!response.ok || !response.body) {
    const envelope = await response.json().catch(() => null);
    if (response.status === 401) needKey();
    throw new ApiError(response.status, envelope);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || data === undefined || signal.aborted || taskId !== selectedTaskId) continue;
      const payload = JSON.parse(data);
      if (event === 'status') {
        const before = JSON.stringify(lastDetail?.step_status ?? null);
        const statusChanged = payload.status !== lastDetail?.status;
        renderDetail(payload);
        // Progress comes every half second: the list (status and step dots) is read again only when they move.
        const stepsChanged = JSON.stringify(payload.step_status ?? null) !== before;
        if (statusChanged || stepsChanged) refreshTasks();
        // A step that finishes writes files: list them as soon as its status says so.
        if (stepsChanged) {
          loadFiles(taskId, signal).catch(() => undefined);
          loadCharts(taskId);
        }
      } else if (event === 'log') {
        const logs = $('logs');
        const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 20;
        logs.append(logLine(payload));
        if (atBottom) logs.scrollTop = logs.scrollHeight;
      } else if (event === 'end') {
        loadFiles(taskId, signal).catch(() => undefined);
        loadCharts(taskId);
        refreshHealth();
      }
    }
  }
}

// ------------------------------------------------------------------------------ retrieval check

async function searchVectors(event) {
  event.preventDefault();
  const form = $('search-form');
  const question = form.question.value.trim();
  $('search-error').textContent = '';
  if (!question) return;
  try {
    const data = await api('POST', `${API}/vector/search`, { question, k: Number(form.k.value) });
    const groups = Object.entries(data.results).map(([collection, hits]) =>
      el(
        'div',
        { 'data-collection': collection },
        el('h3', {}, `${collection} (${hits.length})`),
        ...(hits.length
          ? hits.map((hit) =>
              el(
                'div',
                { class: 'hit' },
                el('span', { class: 'badge' }, `#${hit.rank} · ${t('score')} ${hit.score}`),
                hit.question ? el('div', {}, hit.question) : null,
                el('pre', {}, hit.sql ?? hit.document ?? ''),
              ),
            )
          : [el('div', { class: 'muted' }, t('noHits'))]),
      ),
    );
    $('search-results').replaceChildren(...groups);
  } catch (error) {
    $('search-error').textContent = describe(error);
  }
}

// ------------------------------------------------------------------------------ retrieval self-test
// A question set (pasted, or a file read here in the page) goes to POST /vector/evaluate; the page shows
// recall@k overall, per question, and the misses with what was retrieved instead.

let csvParse = null;
const loadCsvParser = async () => (csvParse ??= (await import('/vendor/csv-parse/sync.js')).parse);

async function readQuestionFile(event) {
  const file = event.target.files?.[0];
  if (!file) return;
  $('eval-form').questions.value = await file.text();
  $('eval-file-name').textContent = file.name;
  event.target.value = ''; // the same file chosen again (after an edit on disk) is read again
  $('eval-error').textContent = '';
}

function setFormFromSet(form, set) {
  if (Number.isInteger(set.k)) {
    if (![...form.k.options].some((o) => Number(o.value) === set.k)) form.k.append(el('option', {}, String(set.k)));
    form.k.value = String(set.k);
  }
  if (Array.isArray(set.collections)) for (const box of form.querySelectorAll('input[name=collection]')) box.checked = set.collections.includes(box.value);
}

async function evaluateQuestions(event) {
  event.preventDefault();
  const form = $('eval-form');
  $('eval-error').textContent = '';
  $('eval-results').replaceChildren();
  let set;
  try {
    set = parseQuestionSet(form.questions.value, await loadCsvParser());
  } catch (error) {
    $('eval-error').textContent = error instanceof QuestionSetError ? t(error.key, error.params) : describe(error);
    return;
  }
  setFormFromSet(form, set);
  const collections = [...form.querySelectorAll('input[name=collection]:checked')].map((box) => box.value);
  $('eval-button').disabled = true;
  try {
    const data = await api('POST', `${API}/vector/evaluate`, { questions: set.questions, k: Number(form.k.value), collections });
    renderEvaluation(data);
  } catch (error) {
    $('eval-error').textContent = describe(error);
  } finally {
    $('eval-button').disabled = false;
  }
}

function renderEvaluation(data) {
  const s = data.summary;
  const retrievedText = (retrieved) => Object.entries(retrieved).map(([collection, tables]) => `${collection}: ${tables.join(', ') || '–'}`).join(' · ');
  $('eval-results').replaceChildren(
    el(
      'p',
      { class: 'eval-summary', 'data-testid': 'eval-summary' },
      el('strong', { 'data-testid': 'eval-recall', 'data-recall': String(s.recall) }, `recall@${data.k} = ${s.recall.toFixed(3)}`),
      ` · ${t('evalComplete', { complete: s.complete, questions: s.questions })} · ${t('evalTables', { found: s.tables_found, needed: s.tables_needed })} · ${t('evalModel', { model: data.embedding_model, dim: data.embedding_dim, collections: data.collections.join(', ') })}`,
    ),
    el(
      'table',
      { class: 'eval-table', 'data-testid': 'eval-questions' },
      el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, t('colQuestion')), el('th', {}, t('evalNeeded')), el('th', {}, t('evalMissed')), el('th', {}, 'recall'))),
      el(
        'tbody',
        {},
        ...data.results.map((r, i) =>
          el(
            'tr',
            { class: r.missed.length ? 'miss' : '', 'data-recall': String(r.recall) },
            el('td', {}, String(i + 1)),
            el('td', {}, r.question),
            el('td', {}, r.tables.join(', ')),
            el('td', { class: 'missed' }, r.missed.join(', ')),
            el('td', {}, r.recall.toFixed(2)),
          ),
        ),
      ),
    ),
    el('h4', {}, t('evalMisses', { n: data.misses.length })),
    data.misses.length
      ? el(
          'ul',
          { class: 'eval-misses', 'data-testid': 'eval-misses' },
          ...data.misses.map((m) => el('li', {}, el('div', {}, m.question), el('div', { class: 'missed' }, `${t('evalMissed')}: ${m.missed.join(', ')}`), el('div', { class: 'muted' }, `${t('evalRetrieved')}: ${retrievedText(m.retrieved)}`))),
        )
      : el('p', { class: 'muted', 'data-testid': 'eval-misses' }, t('evalNoMisses')),
  );
}

// ---------------------------------------------------------------------------------------- charts
// Plain HTML bars (the numbers are text in the page, in its fonts; no canvas, nothing to load) over
// GET /pairs/stats: sql_validation's funnel, the complexity mix and the pairs per table.

/** The funnel's stages in order (issue 14 / issue 11). A stage the report lacks is shown as not measured;
 * one it has that is not listed here is shown under its own name, before "kept". */
const FUNNEL_STAGES = ['generated', 'parsed', 'explain_valid', 'lint_clean', 'meaning_checked', 'repaired', 'deduplicated', 'kept'];
/** Stages that add pairs back rather than keep a share of the previous one. */
const GAIN_STAGES = new Set(['repaired']);

function resetCharts() {
  $('charts').hidden = true;
  $('charts-status').textContent = '';
  for (const id of ['funnel-bars', 'complexity-bars', 'coverage-bars', 'funnel-note', 'coverage-note']) $(id).replaceChildren();
}

/**
 * One row of a bar chart: a label, a bar (solid: `value`, light: `rest`, both out of `scale`) and the
 * number. `absent` draws no bar but says why. Widths go through the CSSOM (the page's CSP forbids inline styles).
 */
function barRow({ label, title, value, rest = 0, scale, text, kind = '', absent = null, attrs = {} }) {
  const track = el('div', { class: 'bar-track' });
  if (absent === null) {
    const fill = el('span', { class: 'bar-fill' });
    fill.style.width = `${scale ? (100 * value) / scale : 0}%`;
    const remainder = el('span', { class: 'bar-rest' });
    remainder.style.width = `${scale ? (100 * rest) / scale : 0}%`;
    track.append(fill, remainder);
  } else track.append(el('span', { class: 'bar-absent-text' }, absent));
  return el(
    'div',
    { class: `bar-row ${kind}`, ...attrs },
    el('span', { class: 'bar-label', title: title ?? label }, label),
    track,
    el('span', { class: 'bar-value' }, absent === null ? text : '—'),
  );
}

const complexityText = (level) => (hasText(`complexity.${level}`) ? t(`complexity.${level}`) : level);
const percent = (n, total) => (total ? `${Math.round((100 * n) / total)}%` : '–');

async function loadCharts(taskId) {
  let stats;
  try {
    stats = await api('GET', `${API}/tasks/${encodeURIComponent(taskId)}/pairs/stats`);
  } catch (error) {
    if (taskId !== selectedTaskId) return;
    $('charts').hidden = true;
    $('charts-status').textContent = error instanceof ApiError && error.envelope?.error?.code === 'PAIRS_NOT_READY' ? t('chartsNotReady') : describe(error);
    return;
  }
  if (taskId !== selectedTaskId) return;
  $('charts-status').textContent = '';
  $('charts').hidden = false;
  renderFunnel(stats);
  renderComplexity(stats);
  renderCoverage(stats);
}

function renderFunnel(stats) {
  if (!stats.funnel) {
    $('funnel-bars').replaceChildren(el('p', { class: 'muted', 'data-testid': 'funnel-missing' }, t('funnelNotRun')));
  } else {
    const reported = new Map(stats.funnel.stages.map((s) => [s.stage, s.pairs]));
    const extra = stats.funnel.stages.map((s) => s.stage).filter((stage) => !FUNNEL_STAGES.includes(stage));
    const order = [...FUNNEL_STAGES.slice(0, -1), ...extra, 'kept'];
    const generated = reported.get('generated') ?? 0;
    $('funnel-bars').replaceChildren(
      ...order.map((stage) => {
        const label = hasText(`stage.${stage}`) ? t(`stage.${stage}`) : stage;
        if (!reported.has(stage)) return barRow({ label, absent: t('notMeasured'), kind: 'bar-absent', attrs: { 'data-stage': stage, 'data-absent': 'true' } });
        const n = reported.get(stage);
        const gain = GAIN_STAGES.has(stage);
        return barRow({ label, value: n, scale: generated, text: gain ? `+${n}` : `${n} (${percent(n, generated)})`, kind: gain ? 'bar-gain' : '', attrs: { 'data-stage': stage, 'data-pairs': String(n) } });
      }),
    );
  }
  const c = stats.counts;
  $('funnel-note').replaceChildren(
    el('span', { 'data-testid': 'funnel-review' }, t('funnelReview', c)),
    stats.funnel ? el('span', { class: 'source' }, ` · ${stats.funnel.report_file}`) : null,
  );
}

function renderComplexity(stats) {
  const scale = Math.max(1, ...stats.complexity.map((r) => r.pairs));
  $('complexity-bars').replaceChildren(
    ...stats.complexity
      .filter((r) => r.complexity !== null || r.pairs > 0)
      .map((r) =>
        barRow({
          label: r.complexity === null ? t('complexity.none') : complexityText(r.complexity),
          title: r.complexity ?? '',
          value: r.kept,
          rest: r.pairs - r.kept,
          scale,
          text: r.kept === r.pairs ? `${r.kept}` : `${r.kept} / ${r.pairs}`,
          attrs: { 'data-complexity': r.complexity ?? '', 'data-kept': String(r.kept), 'data-pairs': String(r.pairs) },
        }),
      ),
  );
}

function renderCoverage(stats) {
  const scale = Math.max(1, ...stats.tables.map((r) => r.pairs));
  const shortName = (table) => (table.startsWith('public.') ? table.slice('public.'.length) : table);
  $('coverage-bars').replaceChildren(
    ...stats.tables.map((r) =>
      barRow({
        label: shortName(r.table),
        title: r.table,
        value: r.kept,
        rest: r.pairs - r.kept,
        scale,
        text: r.pairs === 0 ? t('noPairs') : r.kept === r.pairs ? `${r.kept}` : `${r.kept} / ${r.pairs}`,
        kind: r.kept === 0 ? 'bar-none' : '',
        attrs: { 'data-table': r.table, 'data-kept': String(r.kept), 'data-pairs': String(r.pairs) },
      }),
    ),
  );
  const covered = stats.tables.filter((r) => r.kept > 0).length;
  $('coverage-note').textContent = t('coverageNote', { covered, total: stats.tables.length });
}

// ---------------------------------------------------------------------------------- pairs review
// Every pair with its validation outcome and findings; preview its first rows; edit (the server
// re-validates before saving and says why it refuses); reject or restore. training_load applies it.

const SQL_WORDS = /\b(SELECT|FROM|WHERE|JOIN|LEFT|RIGHT|INNER|ON|GROUP BY|ORDER BY|HAVING|LIMIT|WITH|AS|AND|OR|NOT|IN|IS|NULL|SUM|AVG|COUNT|MIN|MAX|DISTINCT|CASE|WHEN|THEN|ELSE|END|OVER|PARTITION BY|DESC|ASC|UNION|ALL)\b/g;

/** SQL with its keywords marked, built from text nodes only (never HTML from the server). */
function sqlBlock(sql) {
  const pre = el('pre', {});
  let last = 0;
  for (const match of sql.matchAll(SQL_WORDS)) {
    pre.append(sql.slice(last, match.index));
    pre.append(el('span', { class: 'kw' }, match[0]));
    last = match.index + match[0].length;
  }
  pre.append(sql.slice(last));
  return pre;
}

function resetPairs() {
  $('pairs-table').hidden = true;
  $('pair-rows').replaceChildren();
  $('pair-counts').textContent = '';
  $('pairs-error').textContent = '';
}

async function showPairs() {
  const taskId = selectedTaskId;
  if (!taskId) return;
  $('pairs-error').textContent = '';
  const query = new URLSearchParams({ limit: '500' });
  if ($('pair-status').value) query.set('status', $('pair-status').value);
  if ($('pair-findings').checked) query.set('finding', 'any');
  if ($('pair-search').value.trim()) query.set('q', $('pair-search').value.trim());
  try {
    const data = await api('GET', `${API}/tasks/${encodeURIComponent(taskId)}/pairs?${query}`);
    if (taskId !== selectedTaskId) return;
    $('pair-counts').textContent = t('pairCounts', data.counts);
    $('pairs-table').hidden = false;
    $('pair-rows').replaceChildren(...data.pairs.map(pairRow));
  } catch (error) {
    $('pairs-error').textContent = describe(error);
  }
}

function pairRow(pair) {
  const status = pair.review.rejected ? 'rejected' : pair.validation?.status ?? 'pending';
  const row = el('tr', { 'data-pair': pair.pair_id, class: pair.review.rejected ? 'rejected' : '' });
  const findings = (pair.validation?.lint ?? []).map((f) => el('span', { class: `finding ${f.severity}`, title: f.message }, `${f.rule}`));
  // The LLM's reading of the SQL (semantic_check): a mismatch shows what the SQL really answers.
  const meaning = pair.validation?.meaning_check;
  if (meaning) {
    const title = [meaning.back_translation, meaning.reason].filter(Boolean).join(' — ');
    findings.push(el('span', { class: `finding meaning ${meaning.verdict === 'mismatch' ? 'error' : 'info'}`, title, 'data-meaning': meaning.verdict }, hasText(`meaning.${meaning.verdict}`) ? t(`meaning.${meaning.verdict}`) : meaning.verdict));
  }
  const actions = el(
    'td',
    { class: 'actions' },
    el('button', { type: 'button', 'data-action': 'preview', onclick: () => previewPair(pair, row) }, t('preview')),
    el('button', { type: 'button', 'data-action': 'edit', onclick: () => editPair(pair, row) }, t('edit')),
    pair.review.rejected
      ? el('button', { type: 'button', 'data-action': 'restore', onclick: () => rejectPair(pair, false) }, t('restore'))
      : el('button', { type: 'button', 'data-action': 'reject', onclick: () => rejectPair(pair, true) }, t('reject')),
  );
  row.append(
    el('td', {}, pair.pair_id),
    el('td', { class: 'question' }, pair.question, el('div', { class: 'muted' }, [pair.complexity ? complexityText(pair.complexity) : null, pair.tables.join(', ')].filter(Boolean).join(' · '))),
    el('td', {}, sqlBlock(pair.sql)),
    el('td', {}, el('span', { class: `badge p-${status}`, 'data-status': status }, hasText(`pair.${status}`) ? t(`pair.${status}`) : status), pair.review.edited ? el('div', { class: 'muted' }, t('editedPairs')) : null),
    el('td', {}, ...findings),
    actions,
  );
  return row;
}

function detailRow(row, ...content) {
  row.nextElementSibling?.classList.contains('pair-extra') && row.nextElementSibling.remove();
  const extra = el('tr', { class: 'pair-extra' }, el('td', {}), Object.assign(el('td', {}, ...content), { colSpan: 5 }));
  row.after(extra);
  return extra;
}

async function previewPair(pair, row) {
  try {
    const data = await api('POST', `${API}/tasks/${encodeURIComponent(selectedTaskId)}/pairs/${pair.pair_id}/preview`);
    const table = el(
      'table',
      { class: 'preview', 'data-testid': 'pair-preview' },
      el('thead', {}, el('tr', {}, ...data.columns.map((c) => el('th', {}, c)))),
      el('tbody', {}, ...data.rows.map((r) => el('tr', {}, ...r.map((v) => el('td', {}, v ?? 'NULL'))))),
    );
    detailRow(row, data.rows.length ? table : el('span', { class: 'muted' }, t('noRows')));
  } catch (error) {
    detailRow(row, el('span', { class: 'error' }, describe(error)));
  }
}

function editPair(pair, row) {
  const question = el('textarea', { rows: 2, value: pair.question, 'data-field': 'question' });
  const sql = el('textarea', { rows: 6, value: pair.sql, 'data-field': 'sql' });
  const message = el('div', { class: 'error', 'data-testid': 'edit-error' });
  const save = el('button', {
    type: 'button',
    class: 'primary',
    'data-action': 'save',
    onclick: async () => {
      message.textContent = '';
      try {
        await api('PATCH', `${API}/tasks/${encodeURIComponent(selectedTaskId)}/pairs/${pair.pair_id}`, { question: question.value, sql: sql.value });
        await showPairs();
        loadCharts(selectedTaskId);
        $('pair-counts').append(el('span', { 'data-testid': 'pair-saved' }, ` · ${t('saved')}`));
      } catch (error) {
        message.textContent = describe(error);
      }
    },
  }, t('save'));
  detailRow(row, question, sql, save, message);
}

async function rejectPair(pair, rejected) {
  try {
    await api('POST', `${API}/tasks/${encodeURIComponent(selectedTaskId)}/pairs/${pair.pair_id}/${rejected ? 'reject' : 'restore'}`, rejected ? {} : undefined);
    await showPairs();
    loadCharts(selectedTaskId);
  } catch (error) {
    $('pairs-error').textContent = describe(error);
  }
}

// ---------------------------------------------------------------------------------- schema map
// Tables as nodes, relationships as edges (declared solid, inferred dashed, user-declared blue, vetoed
// red); a click on an edge shows its evidence and lets the user confirm or veto it, which writes the
// task's relationships.json through the API (the next ddl_generation honours it).

let cy = null;
let mapData = null;

function resetMap() {
  cy?.destroy();
  cy = null;
  mapData = null;
  $('schema-map').hidden = true;
  $('map-error').textContent = '';
  $('map-edges').replaceChildren();
}

const overrideOf = (rel) => mapData?.overrides.find((o) => o.from === rel.from && o.to === rel.to);
const tableOf = (ref) => ref.split('.').slice(0, -1).join('.');

function edgeState(rel) {
  const o = overrideOf(rel);
  if (o && o.enabled === false) return 'vetoed';
  if (o || rel.origin === 'user') return 'user';
  return rel.origin;
}

async function showMap() {
  const taskId = selectedTaskId;
  if (!taskId) return;
  $('map-error').textContent = '';
  try {
    const data = await api('GET', `${API}/tasks/${encodeURIComponent(taskId)}/relationships`);
    if (taskId !== selectedTaskId) return;
    mapData = data;
    const { default: cytoscape } = await import('/vendor/cytoscape/cytoscape.esm.min.mjs');
    $('schema-map').hidden = false;
    cy?.destroy();
    const pending = data.overrides.filter((o) => !data.relationships.some((r) => r.from === o.from && r.to === o.to));
    const edges = [...data.relationships, ...pending.map((o) => ({ from: o.from, to: o.to, origin: 'user', evidence: null, discovery: null }))];
    cy = cytoscape({
      container: $('schema-map'),
      elements: [
        ...data.tables.map((table) => ({ data: { id: table.name, label: table.entity ? `${table.name}\n${lang === 'zh' ? table.entity.zh : table.entity.en}` : table.name } })),
        ...edges.map((rel, i) => ({ data: { id: `e${i}`, source: tableOf(rel.from), target: tableOf(rel.to), label: `${rel.from.split('.').pop()} → ${rel.to.split('.').pop()}`, index: i, state: edgeState(rel) } })),
      ],
      style: [
        { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'font-size': 11, 'text-valign': 'center', shape: 'round-rectangle', width: 'label', height: 'label', padding: 8, 'background-color': '#eef3fb', 'border-width': 1, 'border-color': '#8aa4c8' } },
        // Labels on a plate of the canvas colour: readable where they cross their (dashed) line.
        { selector: 'edge', style: { width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', label: 'data(label)', 'font-size': 10, 'text-rotation': 'autorotate', color: '#444', 'text-background-color': '#fbfcfd', 'text-background-opacity': 1, 'text-background-padding': '2px', 'text-background-shape': 'roundrectangle' } },
        { selector: 'edge[state = "declared"]', style: { 'line-color': '#444', 'target-arrow-color': '#444' } },
        { selector: 'edge[state = "inferred"]', style: { 'line-style': 'dashed', 'line-color': '#9a6700', 'target-arrow-color': '#9a6700' } },
        { selector: 'edge[state = "user"]', style: { 'line-color': '#1f6feb', 'target-arrow-color': '#1f6feb', width: 3 } },
        { selector: 'edge[state = "vetoed"]', style: { 'line-style': 'dotted', 'line-color': '#cf222e', 'target-arrow-color': '#cf222e' } },
        { selector: ':selected', style: { 'overlay-opacity': 0.15 } },
      ],
      layout: { name: 'breadthfirst', directed: true, spacingFactor: 1.1, padding: 16 },
      wheelSensitivity: 0.3,
    });
    // The same relationships as a list: readable without the canvas (keyboard, screen readers, tests).
    $('map-edges').replaceChildren(
      ...edges.map((rel) => {
        const state = edgeState(rel);
        return el('li', { 'data-from': rel.from, 'data-to': rel.to, 'data-state': state }, el('button', { type: 'button', class: `link origin-${state}`, onclick: () => showEdge(rel) }, `${rel.from} → ${rel.to}`));
      }),
    );
    cy.on('tap', 'edge', (event) => showEdge(edges[event.target.data('index')]));
    cy.on('tap', 'node', (event) => showTable(data.tables.find((table) => table.name === event.target.id())));
    cy.on('mouseover', 'edge', (event) => { $('schema-map').title = edges[event.target.data('index')].evidence ?? ''; });
  } catch (error) {
    $('map-error').textContent = error instanceof ApiError && error.envelope?.error?.code === 'SCHEMA_NOT_READY' ? t('mapNotReady') : describe(error);
  }
}

function showEdge(rel) {
  const state = edgeState(rel);
  const originText = { declared: t('originDeclared'), inferred: t('originInferred'), user: t('originUser'), vetoed: t('originVetoed') }[state];
  const o = overrideOf(rel);
  $('map-detail').replaceChildren(
    el('div', { 'data-testid': 'edge-detail' }, el('strong', {}, `${rel.from} → ${rel.to}`), ' ', el('span', { class: `origin-${state}` }, originText)),
    rel.evidence ? el('div', { class: 'muted' }, `${t('evidence')}: ${rel.evidence}`) : null,
    el(
      'div',
      { class: 'row' },
      rel.origin === 'inferred' && state !== 'user' ? el('button', { type: 'button', 'data-testid': 'confirm-edge', onclick: () => saveOverride(rel, true) }, t('confirm')) : null,
      state !== 'vetoed' && rel.origin !== 'declared' ? el('button', { type: 'button', 'data-testid': 'veto-edge', onclick: () => saveOverride(rel, false) }, t('veto')) : null,
      o ? el('button', { type: 'button', 'data-testid': 'undo-edge', onclick: () => saveOverride(rel, null) }, t('undo')) : null,
    ),
  );
}

function showTable(table) {
  if (!table) return;
  $('map-detail').replaceChildren(
    el('div', {}, el('strong', {}, table.full_name), table.entity ? ` · ${t('entity')}: ${lang === 'zh' ? table.entity.zh : table.entity.en}` : '', table.comment ? ` · ${table.comment}` : ''),
    el(
      'table',
      { 'data-testid': 'table-roles' },
      el('thead', {}, el('tr', {}, el('th', {}, t('column')), el('th', {}, t('role')), el('th', {}, t('comment')))),
      el('tbody', {}, ...table.columns.map((c) => el('tr', {}, el('td', {}, c.name), el('td', {}, c.role ?? ''), el('td', {}, c.comment ?? '')))),
    ),
  );
}

/** enabled: true confirms (declares), false vetoes, null removes the override. */
async function saveOverride(rel, enabled) {
  const rest = mapData.overrides.filter((o) => !(o.from === rel.from && o.to === rel.to));
  const relationships = enabled === null ? rest : [...rest, enabled ? { from: rel.from, to: rel.to } : { from: rel.from, to: rel.to, enabled: false }];
  try {
    mapData = await api('PUT', `${API}/tasks/${encodeURIComponent(selectedTaskId)}/relationships`, { relationships });
    await showMap();
    $('map-detail').replaceChildren(el('div', { class: 'muted', 'data-testid': 'override-saved' }, t('overrideSaved')));
  } catch (error) {
    $('map-error').textContent = describe(error);
  }
}

async function executeSelected(request = { execution_mode: 'complete' }) {
  if (!selectedTaskId) return;
  $('detail-error').textContent = '';
  try {
    await api('POST', `${API}/tasks/${encodeURIComponent(selectedTaskId)}/execute`, request);
  } catch (error) {
    $('detail-error').textContent = describe(error);
  }
}

async function cancelSelected() {
  if (!selectedTaskId) return;
  try {
    await api('POST', `${API}/tasks/${encodeURIComponent(selectedTaskId)}/cancel`, {});
  } catch (error) {
    $('detail-error').textContent = describe(error);
  }
}

// ---------------------------------------------------------------------------------------- start

function refreshAll() {
  refreshHealth();
  refreshTasks();
  if (selectedTaskId) selectTask(selectedTaskId);
}

applyTexts();
$('lang').addEventListener('change', () => {
  lang = $('lang').value;
  localStorage.setItem('dp.lang', lang);
  t = translator(lang);
  applyTexts();
  refreshAll();
});
$('api-key-button').addEventListener('click', askForKey);
$('load-tables').addEventListener('click', loadTables);
$('select-all-tables').addEventListener('change', (event) => {
  for (const box of $('table-options').querySelectorAll('input')) box.checked = event.target.checked;
});
$('task-form').addEventListener('submit', createAndRun);
$('search-form').addEventListener('submit', searchVectors);
$('eval-form').addEventListener('submit', evaluateQuestions);
$('eval-file').addEventListener('change', readQuestionFile);
$('execute-button').addEventListener('click', () => executeSelected());
$('cancel-button').addEventListener('click', cancelSelected);
$('map-button').addEventListener('click', showMap);
$('pairs-button').addEventListener('click', showPairs);
for (const id of ['pair-status', 'pair-findings']) $(id).addEventListener('change', showPairs);
$('pair-search').addEventListener('change', showPairs);
refreshAll();
setInterval(refreshTasks, LIST_REFRESH_MS);
if (location.hash.length > 1) selectTask(decodeURIComponent(location.hash.slice(1)));
