/**
 * The data manager webview: the download form (mode, symbols, intervals, dates, source), the dry
 * run plan, per-symbol progress with a live log, the registry table and the indicator batch.
 * Everything it does goes through messages to the extension (`../messages.ts`).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { DERIVED_INTERVALS } from '../../schemas/intervals.ts';
import type { DatasetSummary } from '../../schemas/protocol.ts';
import {
  type DatasetAction,
  type GroupInfo,
  type HostMessage,
  type IngestForm,
  type ManagerState,
  type Mode,
  type PlanView,
  INDICATOR_PRESETS,
  sameChoice,
} from '../messages.ts';
import { integrityText } from '../../schemas/integrity.ts';
import {
  filterDatasets,
  needsRepair,
  registryCsv,
  sortDatasets,
  type SortKey,
} from '../registry-table.ts';
import { bytes, h, onHostMessage, utcMinute, vscodeApi } from '../vscode.ts';
import { closeMenu, rowMenuButton } from './row-menu.ts';

const vscode = vscodeApi<ManagerState>();
let state: ManagerState | undefined;
let datasets: DatasetSummary[] = [];
let groups: GroupInfo[] = [];
const selected = new Set<string>();
const expanded = new Set<string>();
let running = false;

const app = document.getElementById('app')!;

type ValueEl = HTMLElement & { value: string };
type CheckEl = HTMLElement & { checked: boolean };

/**
 * Keeps the state for a reload of this panel (setState), and sends it to the extension, which
 * keeps the form and the indicators for the next panel opened in this workspace.
 */
function save(): void {
  if (!state) return;
  vscode.setState(state);
  vscode.postMessage({ type: 'remember', state });
}

/** The symbols field's hint: what the mode takes. */
function symbolsHelp(mode: Mode): string {
  return mode === 'single'
    ? 'One symbol, e.g. BTCUSDC; suggestions come from the exchange.'
    : 'Comma separated, e.g. BTCUSDC, ETHUSDC; suggestions come from the exchange.';
}

function field(id: string, label: string, control: HTMLElement, help?: string): HTMLElement {
  return h(
    'div',
    { className: 'field', id: `field-${id}` },
    h('vscode-label', { for: id }, label),
    control,
    help ? h('div', { className: 'help' }, help) : null,
    h('div', { className: 'error', id: `err-${id}`, role: 'alert' }),
  );
}

function textfield(id: string, value: string, placeholder: string): ValueEl {
  const el = h('vscode-textfield', { id, placeholder }) as ValueEl;
  el.value = value;
  el.addEventListener('input', () => readForm());
  return el;
}

function render(): void {
  if (!state) return;
  const f = state.form;
  app.replaceChildren();
  const modes: [Mode, string][] = [
    ['single', 'Single'],
    ['list', 'List'],
    ['top', 'Top N'],
    ['group', 'Group'],
  ];
  const modeGroup = h(
    'vscode-radio-group',
    { id: 'mode', 'aria-label': 'Mode' },
    ...modes.map(([m, label]) =>
      h(
        'vscode-radio',
        { name: 'mode', value: m, label, id: `mode-${m}`, checked: f.mode === m },
        label,
      ),
    ),
  );
  // Arrow keys move the check without a change event: follow every way the radios can move.
  const syncMode = (): void => {
    const m = checkedMode();
    if (!m || m === state!.form.mode) return;
    state!.form.mode = m;
    save();
    showModeFields();
    formChanged();
  };
  for (const ev of ['change', 'keyup', 'click', 'focusin'])
    modeGroup.addEventListener(ev, syncMode);
  void tabToChecked(modeGroup);
  const symbols = textfield('symbols', f.symbols, 'BTCUSDC, ETHUSDC');
  symbols.addEventListener('input', () => {
    const last = symbols.value.split(/[\s,;]+/).pop() ?? '';
    if (last.length >= 2) vscode.postMessage({ type: 'searchSymbols', query: last });
  });
  const groupSelect = h('vscode-single-select', { id: 'group' }) as ValueEl;
  groupSelect.addEventListener('change', () => {
    readForm();
    showGroupMembers();
  });

  const intervals = h(
    'div',
    { className: 'checks', id: 'intervals' },
    ...DERIVED_INTERVALS.map((i) =>
      h('vscode-checkbox', {
        label: i,
        value: i,
        id: `interval-${i}`,
        checked: f.intervals.includes(i),
        onchange: () => readForm(),
      }),
    ),
  );
  const source = h(
    'vscode-single-select',
    { id: 'source', onchange: () => readForm() },
    ...(['auto', 'rest', 'archive'] as const).map((s) =>
      h(
        'vscode-option',
        { value: s, selected: f.source === s },
        s === 'auto' ? 'auto (archive + REST)' : s,
      ),
    ),
  );

  app.append(
    h('h1', {}, 'ThreadX Data Manager'),
    h(
      'section',
      { id: 'download-section' },
      h('h2', {}, 'Download'),
      field('mode', 'Mode', modeGroup),
      field('symbols', f.mode === 'single' ? 'Symbol' : 'Symbols', symbols, symbolsHelp(f.mode)),
      h('div', { id: 'symbol-suggestions', className: 'chips' }),
      h(
        'div',
        { className: 'row', id: 'top-fields' },
        field('topN', 'How many', textfield('topN', String(f.topN), '100')),
        field('quote', 'Quote asset', textfield('quote', f.quote, 'USDC')),
      ),
      field('group', 'Group', groupSelect),
      h('div', { id: 'group-members', className: 'help' }),
      field('intervals', 'Timeframes (1m is always downloaded)', intervals),
      h(
        'div',
        { className: 'row' },
        field('start', 'Start (UTC)', textfield('start', f.start, 'YYYY-MM-DD')),
        field('end', 'End (UTC, empty = now)', textfield('end', f.end, 'YYYY-MM-DD')),
        field('source', 'Source', source),
      ),
      h(
        'div',
        { className: 'buttons' },
        h('vscode-button', { id: 'plan', secondary: true, onclick: () => send('plan') }, 'Dry run'),
        h(
          'vscode-button',
          { id: 'download', onclick: () => send('download') },
          'Download & Validate',
        ),
        h(
          'vscode-button',
          {
            id: 'cancel',
            secondary: true,
            disabled: true,
            onclick: () => vscode.postMessage({ type: 'cancel' }),
          },
          'Cancel',
        ),
      ),
      h('div', { id: 'form-error', className: 'error', role: 'alert' }),
      h('div', { id: 'plan-output' }),
      h(
        'div',
        { id: 'job', hidden: true },
        h(
          'div',
          { className: 'overall' },
          h('span', { id: 'overall-label' }, 'Overall'),
          h('vscode-progress-bar', { id: 'overall', max: 100 }),
        ),
        h('table', { id: 'symbol-progress', className: 'grid' }, h('tbody')),
        h('pre', { id: 'log', 'aria-live': 'polite' }),
      ),
      h('div', { id: 'job-summary', role: 'status' }),
    ),
    h('vscode-divider'),
    h(
      'section',
      { id: 'registry-section' },
      h('h2', {}, 'Registry'),
      h(
        'div',
        { className: 'row' },
        (() => {
          const filter = textfield('filter', state.filter, 'Filter, e.g. BTC 1h');
          filter.addEventListener('input', () => {
            state!.filter = filter.value;
            save();
            renderTable();
          });
          return filter;
        })(),
        h(
          'vscode-button',
          {
            id: 'refresh',
            secondary: true,
            onclick: () => vscode.postMessage({ type: 'refresh' }),
          },
          'Refresh',
        ),
        h(
          'vscode-button',
          {
            id: 'export-table',
            secondary: true,
            title: 'Save the rows shown (all, or those the filter keeps) as CSV',
            onclick: exportTable,
          },
          'Export table (CSV)',
        ),
      ),
      // Next to the export button, so its confirmation is seen where it was asked for.
      h('div', { id: 'table-status', role: 'status' }),
      h('table', { id: 'registry-table', className: 'grid' }, h('thead'), h('tbody')),
      h('div', { id: 'registry-empty', className: 'help', role: 'status' }),
    ),
    h('vscode-divider'),
    h(
      'section',
      { id: 'indicator-section' },
      h('h2', {}, 'Indicators'),
      h(
        'div',
        { className: 'help' },
        'Computed for the datasets ticked in the registry (all candle datasets when none is ticked).',
      ),
      h(
        'div',
        { className: 'checks', id: 'indicator-choices' },
        ...INDICATOR_PRESETS.map((p, i) =>
          h('vscode-checkbox', {
            label: p.label,
            id: `indicator-${i}`,
            checked: state!.indicators.some((c) => sameChoice(c, p.choice)),
            onchange: (e: Event) => {
              const on = (e.target as CheckEl).checked;
              state!.indicators = state!.indicators.filter((c) => !sameChoice(c, p.choice));
              if (on) state!.indicators.push(p.choice);
              save();
            },
          }),
        ),
      ),
      h(
        'div',
        { className: 'buttons' },
        h(
          'vscode-button',
          { id: 'update-indicators', onclick: updateIndicators },
          'Update Indicators',
        ),
      ),
      h('div', { id: 'indicator-summary', role: 'status' }),
    ),
  );
  renderGroups();
  showModeFields();
  renderTable();
}

/**
 * Radio group semantics: Tab reaches the checked radio, not the first one (the element makes the
 * first radio the tab stop when it first lays out its children; that runs before the next frame).
 */
async function tabToChecked(group: HTMLElement): Promise<void> {
  await customElements.whenDefined('vscode-radio-group');
  await (group as HTMLElement & { updateComplete: Promise<unknown> }).updateComplete;
  await new Promise((r) => requestAnimationFrame(r));
  const radios = [...group.querySelectorAll<CheckEl>('vscode-radio')];
  if (!radios.some((r) => r.checked)) return;
  for (const r of radios) r.tabIndex = r.checked ? 0 : -1;
}

/** The mode whose radio is checked now, whatever checked it. */
function checkedMode(): Mode | undefined {
  const radios = [...document.querySelectorAll<CheckEl & { value: string }>('#mode vscode-radio')];
  return radios.find((r) => r.checked)?.value as Mode | undefined;
}

/** A plan belongs to the form that made it: any change to the form clears it. */
function formChanged(): void {
  const out = document.getElementById('plan-output');
  if (out?.firstChild) out.replaceChildren();
}

function readForm(): void {
  if (!state) return;
  const before = JSON.stringify(state.form);
  state.form.mode = checkedMode() ?? state.form.mode;
  const v = (id: string): string => (document.getElementById(id) as ValueEl | null)?.value ?? '';
  const f = state.form;
  f.symbols = v('symbols');
  f.topN = Number(v('topN')) || 0;
  f.quote = v('quote');
  f.group = v('group') || f.group;
  f.start = v('start');
  f.end = v('end');
  f.source = (v('source') || 'auto') as IngestForm['source'];
  f.intervals = DERIVED_INTERVALS.filter(
    (i) => (document.getElementById(`interval-${i}`) as CheckEl | null)?.checked,
  );
  save();
  if (JSON.stringify(f) !== before) formChanged();
}

function showModeFields(): void {
  const mode = state!.form.mode;
  const show = (id: string, on: boolean): void => {
    const el = document.getElementById(id);
    if (el) el.hidden = !on;
  };
  show('field-symbols', mode === 'single' || mode === 'list');
  const help = document.querySelector('#field-symbols .help');
  if (help) help.textContent = symbolsHelp(mode);
  const label = document.querySelector('#field-symbols vscode-label');
  if (label) label.textContent = mode === 'single' ? 'Symbol' : 'Symbols';
  document
    .getElementById('symbols')
    ?.setAttribute('placeholder', mode === 'single' ? 'BTCUSDC' : 'BTCUSDC, ETHUSDC');
  show('symbol-suggestions', mode === 'single' || mode === 'list');
  show('top-fields', mode === 'top');
  show('field-group', mode === 'group');
  show('group-members', mode === 'group');
}

function renderGroups(): void {
  const select = document.getElementById('group') as ValueEl | null;
  if (!select || !state) return;
  select.replaceChildren(
    ...groups.map((g) =>
      h('vscode-option', { value: g.name, selected: g.name === state!.form.group }, g.name),
    ),
  );
  if (groups.some((g) => g.name === state!.form.group)) select.value = state.form.group;
  showGroupMembers();
}

function showGroupMembers(): void {
  const g = groups.find((x) => x.name === state?.form.group);
  const el = document.getElementById('group-members');
  if (el)
    el.textContent = g
      ? `${g.symbols.join(', ')}${g.source === 'config' ? ' (your group)' : ''}`
      : '';
}

function send(kind: 'plan' | 'download'): void {
  readForm();
  document.getElementById('form-error')!.textContent = '';
  // A download starts from the form as it is: the plan shown so far is cleared either way.
  document
    .getElementById('plan-output')!
    .replaceChildren(...(kind === 'plan' ? [h('div', { className: 'help' }, 'Planning…')] : []));
  vscode.postMessage({ type: kind, form: state!.form });
}

function showErrors(errors: Partial<Record<keyof IngestForm, string>>): void {
  for (const el of document.querySelectorAll('.field .error')) el.textContent = '';
  for (const [k, msg] of Object.entries(errors)) {
    const el = document.getElementById(`err-${k}`);
    if (el) el.textContent = msg ?? '';
  }
}

/** A skipped symbol's reason without its own name in front ("not listed on the exchange"). */
function skipReason(s: PlanView['skipped'][number]): string {
  return s.reason.startsWith(`${s.symbol} `)
    ? s.reason.slice(s.symbol.length + 1).replace(/^is /, '')
    : s.reason;
}

function showPlan(plan: PlanView): void {
  const secs =
    plan.seconds < 60
      ? `${Math.max(1, Math.round(plan.seconds))} s`
      : `${Math.round(plan.seconds / 60)} min`;
  // What the run would leave out is said, as the run's own result does.
  const skipped = plan.skipped.length
    ? ` Not downloaded: ${plan.skipped.map((s) => `${s.symbol} (${skipReason(s)})`).join(', ')}.`
    : '';
  const dash = (): HTMLElement => h('td', { className: 'num' }, '—');
  document
    .getElementById('plan-output')!
    .replaceChildren(
      h(
        'div',
        { id: 'plan-summary', className: 'summary' },
        `${plan.items.length} symbol(s): ${plan.totals.candles.toLocaleString('en-US')} candles to fetch, ${plan.totals.requests} REST request(s) (weight ${plan.weight}), ${plan.totals.archives} archive file(s), about ${secs}.${skipped}`,
      ),
      h(
        'table',
        { className: 'grid', id: 'plan-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Symbol', 'Missing ranges', 'Candles', 'Requests', 'Archives'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...plan.items.map((i) =>
            h(
              'tr',
              {},
              h('td', {}, i.symbol),
              h(
                'td',
                { className: 'ranges' },
                i.missing.length
                  ? i.missing.map(([a, b]) => `${utcMinute(a)} → ${utcMinute(b)}`).join('; ')
                  : 'up to date',
              ),
              h('td', { className: 'num' }, i.candles.toLocaleString('en-US')),
              h('td', { className: 'num' }, String(i.requests)),
              h('td', { className: 'num' }, String(i.archives)),
            ),
          ),
          ...plan.skipped.map((s) =>
            h(
              'tr',
              { className: 'skipped', 'data-symbol': s.symbol },
              h('td', {}, s.symbol),
              h('td', { className: 'reason' }, `skipped: ${skipReason(s)}`),
              dash(),
              dash(),
              dash(),
            ),
          ),
        ),
      ),
    );
}

function setRunning(on: boolean): void {
  running = on;
  for (const id of ['download', 'plan', 'update-indicators']) {
    const el = document.getElementById(id);
    if (el) el.toggleAttribute('disabled', on);
  }
  document.getElementById('cancel')?.toggleAttribute('disabled', !on);
}

function startJob(symbols: string[]): void {
  setRunning(true);
  const job = document.getElementById('job')!;
  job.hidden = false;
  document.getElementById('job-summary')!.textContent = '';
  document.getElementById('log')!.textContent = '';
  (document.getElementById('overall') as HTMLElement & { value: number }).value = 0;
  const tbody = document.querySelector('#symbol-progress tbody')!;
  tbody.replaceChildren(
    ...symbols.map((s) => {
      const bar = h('vscode-progress-bar', { max: 100 }) as HTMLElement & { value: number };
      bar.value = 0;
      return h(
        'tr',
        { 'data-symbol': s, className: 'queued' },
        h('td', {}, s),
        h('td', { className: 'bar' }, bar),
        h('td', { className: 'state' }, 'queued'),
      );
    }),
  );
}

function symbolProgress(m: Extract<HostMessage, { type: 'symbolProgress' }>): void {
  const row = document.querySelector<HTMLElement>(`#symbol-progress tr[data-symbol="${m.symbol}"]`);
  if (!row) return;
  row.className = m.state;
  (row.querySelector('vscode-progress-bar') as HTMLElement & { value: number }).value =
    m.percentage;
  row.querySelector('.state')!.textContent = m.message ? `${m.state}: ${m.message}` : m.state;
}

function log(line: string): void {
  const pre = document.getElementById('log');
  if (!pre) return;
  const lines = (pre.textContent ? pre.textContent.split('\n') : []).slice(-199);
  lines.push(line);
  pre.textContent = lines.join('\n');
  pre.scrollTop = pre.scrollHeight;
}

/**
 * The table's sortable columns and their priority: as the panel narrows, priority 3 goes first,
 * then 2, then 1 (container queries in manager.css); 0 always stays.
 */
const COLUMNS: [SortKey, string, 0 | 1 | 2 | 3][] = [
  ['id', 'Dataset', 0],
  ['rows', 'Rows', 2],
  ['first', 'First (UTC)', 1],
  ['last', 'Last (UTC)', 0],
  ['gaps', 'Gaps', 2],
  ['filled', 'Filled', 3],
  ['bytes', 'Size', 3],
];

function sortBy(k: SortKey): void {
  const { key, descending } = state!.sort;
  state!.sort = { key: k, descending: k === key ? !descending : false };
  save();
  renderTable();
  // Keep the focus on the header that was activated, so the keyboard can go on.
  document.querySelector<HTMLElement>(`#registry-table th[data-key="${k}"]`)?.focus();
  const order = state!.sort.descending ? 'descending' : 'ascending';
  const label = COLUMNS.find(([c]) => c === k)?.[1] ?? k;
  const live = document.getElementById('registry-empty');
  if (live) live.textContent = `Sorted by ${label}, ${order}. ${live.textContent ?? ''}`;
}

/** Every column of a row in words: the dataset cell's title, whichever columns the width hides. */
function rowTitle(d: DatasetSummary): string {
  const gaps = d.gaps ? `${d.gaps} gaps (${d.missing} candles missing)` : 'no gaps';
  return `${d.id}: ${d.rows.toLocaleString('en-US')} rows, ${utcMinute(d.first)} → ${utcMinute(d.last)} UTC, ${gaps}, ${d.filled} filled, ${bytes(d.bytes)}`;
}

/**
 * The dataset's integrity as the daemon keeps it, and its pending edge buckets: the state in a
 * word always, its time and the pending count where the panel is wide enough (`.more`), all of it
 * in the title.
 */
function integrityCell(d: DatasetSummary): HTMLElement {
  const i = d.integrity;
  const text = i ? integrityText(i, (t) => `${utcMinute(t)} UTC`) : '';
  const bad = i?.state === 'corrupt' || i?.state === 'missing';
  const pending = d.pending ? `${d.pending} pending` : '';
  const label = [text, pending].filter(Boolean).join(', ');
  const word = !i
    ? ''
    : i.state === 'not-verified'
      ? 'not verified'
      : i.state === 'missing'
        ? 'corrupt'
        : i.state;
  const when = i?.state === 'verified' ? i.at : i?.state === 'changed' ? i.since : undefined;
  const more = [when !== undefined ? utcMinute(when) : '', pending].filter(Boolean).join(', ');
  return h(
    'td',
    {
      className: `integrity p0${bad ? ' warn' : ''}`,
      title: label,
      'data-state': i?.state ?? '',
    },
    word,
    more ? h('span', { className: 'more' }, ` ${more}`) : null,
  );
}

function renderTable(): void {
  if (!state) return;
  const table = document.getElementById('registry-table');
  if (!table) return;
  // A row's menu open on a row about to be redrawn: closed, the focus on that row's new button.
  const menuRow = document
    .querySelector('#registry-table button.row-menu-button[aria-expanded="true"]')
    ?.closest('tr')
    ?.getAttribute('data-id');
  closeMenu(false);
  const { key, descending } = state.sort;
  const head = h(
    'tr',
    {},
    h('th', { className: 'select' }, h('span', { className: 'visually-hidden' }, 'Select')),
    ...COLUMNS.map(([k, label, p]) =>
      h(
        'th',
        {
          className: `sortable p${p}${k === key ? (descending ? ' desc' : ' asc') : ''}`,
          'data-key': k,
          tabindex: 0,
          'aria-sort': k === key ? (descending ? 'descending' : 'ascending') : 'none',
          onclick: () => sortBy(k),
          onkeydown: (e: Event) => {
            const ke = e as KeyboardEvent;
            if (ke.key !== 'Enter' && ke.key !== ' ') return;
            ke.preventDefault();
            sortBy(k);
          },
        },
        label,
      ),
    ),
    h('th', { className: 'p0' }, 'Integrity'),
    h('th', { className: 'actions' }, h('span', { className: 'visually-hidden' }, 'Actions')),
  );
  table.querySelector('thead')!.replaceChildren(head);
  const rows = tableRows();
  // Indicator caches are not rows of their own: they open under their candles.
  const caches = new Map<string, DatasetSummary[]>();
  for (const d of datasets) {
    if (d.kind !== 'indicator') continue;
    const k = `${d.symbol}/${d.interval}`;
    caches.set(k, [...(caches.get(k) ?? []), d]);
  }
  table.querySelector('tbody')!.replaceChildren(
    ...rows.flatMap((d) => {
      const act = (a: DatasetAction) => () =>
        vscode.postMessage({ type: 'datasetAction', action: a, id: d.id });
      const menu = rowMenuButton(`Actions for ${d.id}`, () => [
        ...(needsRepair(d.integrity)
          ? [{ id: 'repair', label: 'Repair', run: act('repair') }]
          : []),
        { id: 'preview', label: 'Preview', run: act('preview') },
        { id: 'update', label: 'Update', run: act('update') },
        { id: 'export', label: 'Export CSV…', run: act('export') },
        { id: 'exportExcel', label: 'Export Excel…', run: act('exportExcel') },
        { id: 'delete', label: 'Delete…', run: act('delete') },
      ]);
      const check = h('input', {
        type: 'checkbox',
        className: 'select',
        checked: selected.has(d.id),
        'aria-label': `Select ${d.id}`,
        onchange: (e: Event) => {
          if ((e.target as HTMLInputElement).checked) selected.add(d.id);
          else selected.delete(d.id);
        },
      });
      const inds = caches.get(d.id) ?? [];
      const open = expanded.has(d.id);
      const detailId = `detail-${d.id.replace(/[^A-Za-z0-9]/g, '-')}`;
      const toggle = inds.length
        ? h(
            'button',
            {
              className: 'disclosure',
              'aria-expanded': open ? 'true' : 'false',
              'aria-controls': detailId,
              'aria-label': `${inds.length} indicator cache${inds.length === 1 ? '' : 's'} of ${d.id}`,
              onclick: () => {
                if (open) expanded.delete(d.id);
                else expanded.add(d.id);
                renderTable();
                document
                  .querySelector<HTMLElement>(`tr[data-id="${d.id}"] button.disclosure`)
                  ?.focus();
              },
            },
            `${open ? '▾' : '▸'} ${inds.length}`,
          )
        : null;
      const row = h(
        'tr',
        { 'data-id': d.id, className: d.kind },
        h('td', { className: 'select' }, check),
        h('td', { className: 'id p0', title: rowTitle(d) }, d.id, toggle ? ' ' : '', toggle),
        h('td', { className: 'num p2' }, d.rows.toLocaleString('en-US')),
        h('td', { className: 'date p1' }, utcMinute(d.first)),
        h('td', { className: 'date p0' }, utcMinute(d.last)),
        h(
          'td',
          { className: `num p2${d.gaps ? ' warn' : ''}` },
          d.gaps ? `${d.gaps} (${d.missing})` : '0',
        ),
        h('td', { className: 'num p3' }, String(d.filled)),
        h('td', { className: 'num p3' }, bytes(d.bytes)),
        integrityCell(d),
        h(
          'td',
          { className: 'actions' },
          // A damaged, changed or missing file: Repair stays in view (it runs in this window's
          // daemon, which holds the bank; the shell's "threadx repair" would be refused).
          needsRepair(d.integrity)
            ? h(
                'button',
                {
                  className: 'row-repair',
                  'aria-label': `Repair ${d.id}`,
                  title: `Repair ${d.id}`,
                  onclick: act('repair'),
                },
                'Repair',
              )
            : null,
          menu,
        ),
      );
      if (!inds.length || !open) return [row];
      const detail = h(
        'tr',
        { className: 'detail', id: detailId },
        h(
          'td',
          { colspan: COLUMNS.length + 3 },
          h(
            'ul',
            { className: 'indicator-caches', 'aria-label': `Indicator caches of ${d.id}` },
            ...inds.map((i) =>
              h(
                'li',
                { 'data-id': i.id },
                `${i.id.split('/').slice(2).join('/')}: ${i.rows.toLocaleString('en-US')} rows, ${utcMinute(i.first)} → ${utcMinute(i.last)} UTC, ${bytes(i.bytes)}`,
              ),
            ),
          ),
        ),
      );
      return [row, detail];
    }),
  );
  if (menuRow)
    document
      .querySelector<HTMLElement>(`#registry-table tr[data-id="${menuRow}"] button.row-menu-button`)
      ?.focus();
  const candles = datasets.filter((d) => d.kind === 'candles').length;
  document.getElementById('registry-empty')!.textContent =
    datasets.length === 0
      ? 'The bank is empty: download something above.'
      : rows.length === 0
        ? 'No dataset matches the filter.'
        : `${rows.length} of ${candles} dataset(s).`;
}

/** The candle datasets the table shows: filtered and sorted as on screen. */
function tableRows(): DatasetSummary[] {
  const { key, descending } = state!.sort;
  return sortDatasets(
    filterDatasets(
      datasets.filter((d) => d.kind === 'candles'),
      state!.filter,
    ),
    key,
    descending,
  );
}

/** The rows shown (filtered or all) as CSV, saved by the extension. */
function exportTable(): void {
  if (!state) return;
  const rows = tableRows();
  vscode.postMessage({
    type: 'saveTable',
    name: state.filter.trim() ? 'threadx-registry-filtered' : 'threadx-registry',
    csv: registryCsv(rows, datasets),
    rows: rows.length,
  });
}

function updateIndicators(): void {
  if (!state || running) return;
  const candles = datasets.filter((d) => d.kind === 'candles');
  const chosen = selected.size ? candles.filter((d) => selected.has(d.id)) : candles;
  const symbols = [...new Set(chosen.map((d) => d.symbol))];
  const intervals = [...new Set(chosen.map((d) => d.interval))];
  document.getElementById('indicator-summary')!.textContent = 'Updating…';
  vscode.postMessage({
    type: 'updateIndicators',
    symbols,
    intervals,
    indicators: state.indicators,
    datasets: chosen.map((d) => d.id),
  });
}

onHostMessage((m) => {
  switch (m.type) {
    case 'init':
      if (m.view !== 'manager') return;
      state = vscode.getState() ?? m.state;
      save();
      render();
      return;
    case 'registry':
      datasets = m.datasets;
      renderTable();
      return;
    case 'groups':
      groups = m.groups;
      renderGroups();
      return;
    case 'symbols': {
      const box = document.getElementById('symbol-suggestions');
      if (!box) return;
      box.replaceChildren(
        ...m.matches.slice(0, 12).map((s) =>
          h(
            'vscode-button',
            {
              secondary: true,
              className: 'chip',
              onclick: () => {
                const el = document.getElementById('symbols') as ValueEl;
                const parts = el.value.split(/[\s,;]+/).filter(Boolean);
                parts[parts.length ? parts.length - 1 : 0] = s.symbol;
                el.value = `${parts.join(', ')}, `;
                readForm();
              },
            },
            s.symbol,
          ),
        ),
      );
      return;
    }
    case 'plan':
      showPlan(m.plan);
      return;
    case 'formErrors':
      showErrors(m.errors);
      if (Object.keys(m.errors).length) document.getElementById('plan-output')!.replaceChildren();
      return;
    case 'jobStarted':
      if (m.job === 'download') startJob(m.symbols);
      else setRunning(true);
      return;
    case 'symbolProgress':
      symbolProgress(m);
      return;
    case 'overallProgress':
      (document.getElementById('overall') as HTMLElement & { value: number }).value = m.percentage;
      document.getElementById('overall-label')!.textContent =
        `Overall ${Math.round(m.percentage)}%`;
      return;
    case 'log':
      log(`${new Date(m.time).toISOString().slice(11, 19)} ${m.level.padEnd(5)} ${m.message}`);
      return;
    case 'jobDone': {
      setRunning(false);
      const el = document.getElementById(
        m.job === 'download' ? 'job-summary' : 'indicator-summary',
      )!;
      el.textContent = m.summary;
      el.className = m.ok ? 'ok' : 'warn';
      return;
    }
    case 'saved': {
      const open = (reveal: boolean) => () =>
        vscode.postMessage({ type: 'openFile', path: m.path, ...(reveal ? { reveal } : {}) });
      document
        .getElementById('table-status')!
        .replaceChildren(
          h('span', { className: 'saved-text' }, m.message ?? `Saved the table to ${m.path}.`),
          ' ',
          h('button', { id: 'open-saved', className: 'link', onclick: open(false) }, 'Open'),
          ' ',
          h('button', { id: 'reveal-saved', className: 'link', onclick: open(true) }, 'Reveal'),
        );
      return;
    }
    case 'error':
      document.getElementById('form-error')!.textContent = m.message;
      if (document.getElementById('plan-output')?.textContent === 'Planning…')
        document.getElementById('plan-output')!.replaceChildren();
      return;
    default:
      return;
  }
});

vscode.postMessage({ type: 'ready' });
