// The coordinators' page (DESIGN.md §6, §10): sign in, the escalation worklist (acknowledge
// with a note), coverage of the 16 districts as a bar chart and a table, the 三率 scorecards
// (sortable), broadcasts (the form, its progress, the recent ones), a district's
// subdistricts, its weekly coverage trend, its gap list (all, or one key population) and
// the CSVs. Plain DOM, no build step; text always goes in through textContent.
import { ApiError, clearSession, downloadCsv, getJson, loadSession, login, logout, newIdempotencyKey, postJson } from './api.js';

const ROLE_NAMES = { city_admin: '市级管理员', district_coordinator: '区级协调员' };
const GAP_PAGE_SIZE = 20;
const DAY_MS = 24 * 3600 * 1000;
const $ = (id) => document.getElementById(id);

const state = {
  session: null,
  chart: null,
  trendChart: null,
  districts: [],
  district: null,
  gapCursor: null,
  scorecards: [],
  scorecardSort: { key: 'received', direction: 'descending' },
  escalationCursor: null,
  /** The broadcast whose progress is shown, and the timer of its next look. */
  broadcastId: null,
  broadcastTimer: null,
  /** A send that got no answer (network, 5xx): the same body again reuses its Idempotency-Key. */
  broadcastRetry: null,
};
const AUDIENCE_NAMES = { youth: '青少年', farmers: '农民', workers: '产业工人', elderly: '老年人', officials: '领导干部和公务员' };
const SCORECARD_KINDS = { departments: '职能部门', organizations: '志愿服务组织' };
const TREND_WEEKS = 12;

// ---- dates: the pickers are Beijing calendar days ------------------------------

function beijingToday(offsetDays = 0) {
  return new Date(Date.now() + 8 * 3600 * 1000 + offsetDays * DAY_MS).toISOString().slice(0, 10);
}

/** Both picked days included, as the coverage API reads `from` and `to` (YYYY-MM-DD, Asia/Shanghai). */
function periodQuery() {
  return new URLSearchParams({ from: $('from').value, to: $('to').value }).toString();
}

function shortDate(iso) {
  return new Date(iso).toLocaleDateString('zh-CN', { timeZone: 'Asia/Shanghai' });
}

// ---- small view helpers -------------------------------------------------------

const percent = (ratio) => `${(ratio * 100).toFixed(1)}%`;
const orderTotal = (row) => row.orders ?? Object.values(row.ordersByStatus ?? {}).reduce((sum, n) => sum + n, 0);
const coverageLevel = (ratio) => (ratio < 0.3 ? 'low' : ratio < 0.7 ? 'mid' : 'high');
const LEVEL_COLOURS = { low: '#d64541', mid: '#e69b23', high: '#2e8b57' };

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

function showError(id, error) {
  $(id).textContent = error ? (error instanceof ApiError ? error.message : '页面出错，请刷新后重试。') : '';
}

/** Every data call goes through here: an expired sign-in sends the user back to the form. */
async function guarded(errorId, task) {
  showError(errorId, null);
  try {
    await task();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut('登录已失效，请重新登录。');
    if (!(error instanceof ApiError)) console.error(error);
    showError(errorId, error);
  }
}

async function busy(section, task) {
  section.setAttribute('aria-busy', 'true');
  try {
    await task();
  } finally {
    section.setAttribute('aria-busy', 'false');
  }
}

// ---- shared by the worklist and the broadcasts ------------------------------------

const dateTime = (iso) =>
  new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function stats(target, pairs) {
  target.replaceChildren(
    ...pairs.map(([label, value, key]) => {
      const wrap = element('div');
      if (key) wrap.dataset.stat = key;
      wrap.append(element('dt', '', label), element('dd', '', value));
      return wrap;
    }),
  );
}

// ---- sign in and out ----------------------------------------------------------

function showLogin(message = '') {
  $('board').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('username').focus();
}

function signOut(message) {
  void logout(state.session);
  clearSession();
  state.session = null;
  state.district = null;
  stopBroadcastPolling();
  state.broadcastId = null;
  state.broadcastRetry = null;
  showCoordinatorViews(false);
  state.chart?.destroy();
  state.chart = null;
  state.trendChart?.destroy();
  state.trendChart = null;
  showLogin(message);
}

async function onLogin(event) {
  event.preventDefault();
  const username = $('username').value.trim();
  const password = $('password').value;
  if (!username || !password) return showError('login-error', new ApiError(400, 'VALIDATION_FAILED', '请输入用户名和密码。'));
  const button = event.submitter ?? $('login-form').querySelector('button');
  button.disabled = true;
  try {
    state.session = await login(username, password);
    $('password').value = '';
    await showBoard();
  } catch (error) {
    showError('login-error', error);
  } finally {
    button.disabled = false;
  }
}

async function showBoard() {
  const { user } = state.session;
  $('login').hidden = true;
  $('who').hidden = false;
  $('who-name').textContent = `${user.displayName ?? user.username}（${ROLE_NAMES[user.role] ?? user.role}）`;
  $('board').hidden = false;
  $('district').hidden = true;
  // The worklist and the broadcasts act: only for the roles the API lets act (API.md "Coordinators steering").
  showCoordinatorViews(Boolean(ROLE_NAMES[user.role]));
  if (!ROLE_NAMES[user.role]) return showError('board-error', new ApiError(403, 'FORBIDDEN', '您的账号无权查看覆盖情况（仅限市级管理员和区级协调员）。'));
  await Promise.all([
    loadCity(),
    guarded('escalations-error', () => busy($('escalations'), () => loadEscalations({ reset: true }))),
    guarded('broadcast-error', loadBroadcasts),
  ]);
}

function showCoordinatorViews(isShown) {
  $('escalations').hidden = !isShown;
  $('broadcasts').hidden = !isShown;
  if (isShown) return;
  $('escalation-list').replaceChildren();
  $('broadcast-table').tBodies[0].replaceChildren();
  $('broadcast-progress').hidden = true;
  for (const id of ['escalations-error', 'broadcast-error']) showError(id, null);
}

// ---- city view ------------------------------------------------------------------

async function loadCity() {
  if ($('from').value > $('to').value) return showError('board-error', new ApiError(400, 'VALIDATION_FAILED', '开始日期不能晚于结束日期。'));
  await guarded('board-error', () =>
    busy($('city'), async () => {
      state.districts = await getJson(state.session, `coverage/districts?${periodQuery()}`);
      renderCity();
      await loadScorecards();
      // A coordinator has one district: open it at once. Otherwise refresh the open one.
      const open = state.districts.length === 1 ? state.districts[0].districtCode : state.district?.districtCode;
      if (open && state.districts.some((d) => d.districtCode === open)) await openDistrict(open, { scroll: false });
    }),
  );
}

function renderCity() {
  const rows = state.districts;
  renderBroadcastScope();
  $('city-title').textContent = rows.length === 1 ? `${rows[0].districtName}社区覆盖率` : `各区社区覆盖率（${rows.length} 个区）`;
  $('chart-box').classList.toggle('single', rows.length === 1);
  renderChart(rows);
  const body = $('district-table').tBodies[0];
  body.replaceChildren(
    ...rows.map((d) => {
      const tr = document.createElement('tr');
      tr.dataset.districtCode = d.districtCode;
      cell(tr, d.districtName);
      cell(tr, String(d.communities), 'num');
      cell(tr, String(d.coveredCommunities), 'num');
      cell(tr, percent(d.coverage), `num level-${coverageLevel(d.coverage)}`);
      cell(tr, String(orderTotal(d)), 'num');
      cell(tr, String(d.slaBreaches ?? 0), 'num');
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'link';
      open.textContent = '查看';
      open.setAttribute('aria-label', `查看${d.districtName}`);
      open.addEventListener('click', () => void openDistrict(d.districtCode));
      cell(tr, '').append(open);
      return tr;
    }),
  );
}

/** Writes "45.0%（9/20）" at the end of each bar, inside it when the bar nearly fills the axis. */
const valueLabels = {
  id: 'valueLabels',
  afterDatasetsDraw(chart) {
    const { ctx, chartArea } = chart;
    const texts = chart.data.datasets[0].valueLabels;
    ctx.save();
    ctx.font = `12px ${Chart.defaults.font.family}`;
    ctx.textBaseline = 'middle';
    chart.getDatasetMeta(0).data.forEach((bar, i) => {
      const text = texts[i];
      const inside = bar.x + 6 + ctx.measureText(text).width > chartArea.right;
      ctx.fillStyle = inside ? '#ffffff' : '#1f2933';
      ctx.textAlign = inside ? 'right' : 'left';
      ctx.fillText(text, inside ? bar.x - 6 : bar.x + 6, bar.y);
    });
    ctx.restore();
  },
};

function renderChart(rows) {
  state.chart?.destroy();
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  state.chart = new Chart($('coverage-chart'), {
    type: 'bar',
    data: {
      labels: rows.map((d) => d.districtName),
      datasets: [
        {
          label: '覆盖率',
          data: rows.map((d) => Math.round(d.coverage * 1000) / 10),
          backgroundColor: rows.map((d) => LEVEL_COLOURS[coverageLevel(d.coverage)]),
          valueLabels: rows.map((d) => `${percent(d.coverage)}（${d.coveredCommunities}/${d.communities}）`),
          barPercentage: 0.8,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      // The whole row of a district answers, not only its bar: a district at 0.3% has almost no bar to hit.
      interaction: { mode: 'index', axis: 'y', intersect: false },
      scales: { x: { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } }, y: { ticks: { autoSkip: false } } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `覆盖率 ${percent(rows[item.dataIndex].coverage)}，已覆盖 ${rows[item.dataIndex].coveredCommunities}/${rows[item.dataIndex].communities} 个社区` } },
      },
      onClick: (_event, elements) => {
        if (elements[0]) void openDistrict(rows[elements[0].index].districtCode);
      },
      onHover: (event, elements) => {
        event.native.target.classList.toggle('clickable', elements.length > 0);
      },
    },
    plugins: [valueLabels],
  });
}

// ---- 三率 scorecards ------------------------------------------------------------

async function loadScorecards() {
  const kind = $('scorecard-kind').value;
  await busy($('scorecards'), async () => {
    state.scorecards = await getJson(state.session, `scorecards/${kind}?${periodQuery()}`);
    const scope = state.districts.length === 1 ? state.districts[0].districtName : '全市';
    $('scorecards-title').textContent = `三率考核 · ${scope}${SCORECARD_KINDS[kind]}`;
    renderScorecards();
  });
}

const rateText = (ratio) => (ratio === null || ratio === undefined ? '—' : percent(ratio));

/** Nulls (nothing to rate) always last, whichever the direction; then by name. */
function compareScorecards(a, b) {
  const { key, direction } = state.scorecardSort;
  const x = a[key];
  const y = b[key];
  if (x === null && y !== null) return 1;
  if (y === null && x !== null) return -1;
  const order = typeof x === 'string' ? x.localeCompare(y, 'zh-CN') : (x ?? 0) - (y ?? 0);
  return (direction === 'ascending' ? order : -order) || a.name.localeCompare(b.name, 'zh-CN');
}

function renderScorecards() {
  for (const th of $('scorecard-table').tHead.rows[0].cells) {
    const key = th.querySelector('button')?.dataset.sort;
    th.setAttribute('aria-sort', key === state.scorecardSort.key ? state.scorecardSort.direction : 'none');
  }
  const rows = [...state.scorecards].sort(compareScorecards);
  $('scorecard-table').tBodies[0].replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.id = r.id;
      cell(tr, r.name);
      cell(tr, String(r.received), 'num');
      cell(tr, rateText(r.responseRate), r.responseRate !== null && r.responseRate < 0.6 ? 'num rate-low' : 'num');
      cell(tr, rateText(r.resolutionRate), 'num');
      cell(tr, rateText(r.satisfiedRate), 'num');
      cell(tr, r.averageRating === null ? '—' : Number(r.averageRating).toFixed(2), 'num');
      cell(tr, r.medianHoursToRespond === null ? '—' : String(r.medianHoursToRespond), 'num');
      return tr;
    }),
  );
}

function onSort(event) {
  const key = event.currentTarget.dataset.sort;
  const current = state.scorecardSort;
  // A new column starts with the best first: names A→Z, numbers high→low (hours low→high).
  const first = key === 'name' || key === 'medianHoursToRespond' ? 'ascending' : 'descending';
  state.scorecardSort = { key, direction: current.key === key ? (current.direction === 'ascending' ? 'descending' : 'ascending') : first };
  renderScorecards();
}

// ---- one district: subdistricts, trend and gaps -----------------------------------

async function openDistrict(code, { scroll = true } = {}) {
  const section = $('district');
  await guarded('board-error', () =>
    busy(section, async () => {
      state.district = await getJson(state.session, `coverage/districts/${encodeURIComponent(code)}?${periodQuery()}`);
      renderDistrict(state.district);
      section.hidden = false;
      await Promise.all([loadTrend(code), loadGaps({ reset: true })]);
      if (scroll) section.scrollIntoView({ behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'instant' : 'smooth', block: 'start' });
    }),
  );
}

function renderDistrict(d) {
  $('district-title').textContent = `${d.districtName} · 街道（乡镇）覆盖情况`;
  const stat = (label, value) => {
    const wrap = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = label;
    dd.textContent = value;
    wrap.append(dt, dd);
    return wrap;
  };
  const hours = (n) => (n === null || n === undefined ? '—' : `${Number(n).toFixed(1)} 小时`);
  $('district-stats').replaceChildren(
    stat('覆盖率', percent(d.coverage)),
    stat('已覆盖社区', `${d.coveredCommunities} / ${d.communities}`),
    stat('工单', String(orderTotal(d))),
    stat('超时（SLA）', String(d.slaBreaches ?? 0)),
    stat('排期中位时长', hours(d.medianHoursToSchedule)),
    stat('志愿服务时长', hours(d.volunteerHours)),
    stat('平均评分', d.averageRating === null || d.averageRating === undefined ? '—' : Number(d.averageRating).toFixed(1)),
  );
  $('subdistrict-table').tBodies[0].replaceChildren(
    ...(d.subdistricts ?? []).map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.subdistrictCode = s.subdistrictCode ?? s.code;
      cell(tr, s.subdistrictName ?? s.name);
      cell(tr, String(s.communities), 'num');
      cell(tr, String(s.coveredCommunities), 'num');
      cell(tr, percent(s.coverage), `num level-${coverageLevel(s.coverage)}`);
      cell(tr, String(orderTotal(s)), 'num');
      cell(tr, String(s.slaBreaches ?? 0), 'num');
      return tr;
    }),
  );
}

async function loadTrend(code) {
  const trend = await getJson(state.session, `coverage/districts/${encodeURIComponent(code)}/trend?weeks=${TREND_WEEKS}`);
  $('trend-title').textContent = `${trend.districtName}覆盖趋势（近 ${trend.weeks.length} 周，共 ${trend.communities} 个社区）`;
  state.trendChart?.destroy();
  state.trendChart = new Chart($('trend-chart'), {
    type: 'line',
    data: {
      labels: trend.weeks.map((wk) => `${wk.from.slice(5)}～${wk.to.slice(5)}`),
      datasets: [
        {
          label: '已覆盖社区',
          data: trend.weeks.map((wk) => wk.coveredCommunities),
          coverage: trend.weeks.map((wk) => wk.coverage),
          borderColor: LEVEL_COLOURS.high,
          backgroundColor: LEVEL_COLOURS.high,
          tension: 0.2,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { min: 0, ticks: { precision: 0 } }, x: { ticks: { maxRotation: 0, autoSkip: true } } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `已覆盖 ${item.raw} 个社区（${percent(trend.weeks[item.dataIndex].coverage)}）` } },
      },
    },
  });
}

function gapAudience() {
  const audience = $('gap-audience').value;
  return AUDIENCE_NAMES[audience] ? audience : '';
}

function gapDays() {
  const days = Number($('gap-days').value);
  return Number.isInteger(days) && days >= 1 ? days : 90;
}

async function loadGaps({ reset }) {
  const body = $('gap-table').tBodies[0];
  if (reset) {
    body.replaceChildren();
    state.gapCursor = null;
  }
  const days = gapDays();
  const audience = gapAudience();
  $('gaps-title').textContent = audience ? `${AUDIENCE_NAMES[audience]}服务空白社区（近 ${days} 天）` : `服务空白社区（近 ${days} 天）`;
  const query = new URLSearchParams({ days: String(days), limit: String(GAP_PAGE_SIZE) });
  if (audience) query.set('audience', audience);
  if (state.gapCursor) query.set('cursor', state.gapCursor);
  const page = await getJson(state.session, `coverage/districts/${encodeURIComponent(state.district.districtCode)}/gaps?${query}`);
  for (const gap of page.items) {
    const tr = document.createElement('tr');
    tr.dataset.communityCode = gap.communityCode;
    cell(tr, gap.communityName);
    cell(tr, gap.subdistrictName);
    cell(tr, gap.lastServedAt ? shortDate(gap.lastServedAt) : '从未服务');
    cell(tr, gap.daysSinceService === null || gap.daysSinceService === undefined ? '—' : String(gap.daysSinceService), 'num');
    cell(tr, String(gap.pendingOrders), gap.pendingOrders > 0 ? 'num pending' : 'num');
    body.append(tr);
  }
  state.gapCursor = page.nextCursor;
  $('gaps-more').hidden = !page.nextCursor;
  $('gaps-empty').hidden = body.rows.length > 0;
}

// ---- escalation worklist -----------------------------------------------------------

const ESCALATION_PAGE_SIZE = 20;
const STAGE_NAMES = { dispatch: '派单', claim: '领单', accept: '接单', schedule: '排期' };
const ESCALATION_STATUS_NAMES = { open: '待处理', acknowledged: '已确认', resolved: '已解除' };
const ORDER_STATUS_NAMES = {
  submitted: '待派单',
  dispatched: '已派单',
  claimed: '已领单',
  accepted: '已接单',
  scheduled: '已排期',
  in_progress: '进行中',
  completed: '已完成',
  rated: '已评价',
  closed: '已关闭',
  rejected: '已驳回',
  merged: '已合并',
  cancelled: '已取消',
  expired: '已过期',
};
const ESCALATION_WORDING = {
  messages: {
    ESCALATION_RESOLVED: '该工单已离开超时环节，预警已自动解除，无需再确认。',
    NOT_FOUND: '未找到该预警，或它不在您的管理范围内。',
    FORBIDDEN: '您的账号无权处理超时预警（仅限市级管理员和区级协调员）。',
  },
};

/** How long past the deadline: until now, or until the order left the stage. */
function overdue(dueAt, resolvedAt) {
  const hours = Math.floor(((resolvedAt ? Date.parse(resolvedAt) : Date.now()) - Date.parse(dueAt)) / 3_600_000);
  if (hours < 1) return '不到 1 小时';
  return hours < 48 ? `${hours} 小时` : `${Math.floor(hours / 24)} 天`;
}

async function loadEscalations({ reset }) {
  const list = $('escalation-list');
  if (reset) state.escalationCursor = null;
  const status = $('escalation-status').value;
  const query = new URLSearchParams({ limit: String(ESCALATION_PAGE_SIZE) });
  if (ESCALATION_STATUS_NAMES[status]) query.set('status', status);
  if (!reset && state.escalationCursor) query.set('cursor', state.escalationCursor);
  const page = await getJson(state.session, `escalations?${query}`, ESCALATION_WORDING);
  if (reset) list.replaceChildren();
  list.append(...page.items.map(escalationItem));
  state.escalationCursor = page.nextCursor;
  $('escalations-title').textContent = `超时预警 · ${ESCALATION_STATUS_NAMES[status] ?? '全部'}${page.nextCursor ? '' : `（${list.children.length} 条）`}`;
  $('escalations-more').hidden = !page.nextCursor;
  $('escalations-empty').hidden = list.children.length > 0;
}

/** One breach as a card: urgent marked, the stage and its times, the note, and the acknowledge form. */
function escalationItem(e) {
  const item = element('li', e.order.urgent ? 'escalation urgent' : 'escalation');
  item.dataset.id = e.id;
  item.dataset.status = e.status;
  const head = element('div', 'escalation-head');
  if (e.order.urgent) head.append(element('span', 'badge', '紧急'));
  head.append(element('strong', 'code', e.order.code), element('span', 'order-title', e.order.title));
  const meta = element('dl', 'meta');
  stats(meta, [
    ['超时环节', `${STAGE_NAMES[e.stage] ?? e.stage}超时`, 'stage'],
    ['时限', dateTime(e.dueAt), 'due'],
    ['已超时', overdue(e.dueAt, e.resolvedAt), 'overdue'],
    ['状态', ESCALATION_STATUS_NAMES[e.status] ?? e.status, 'status'],
    ['工单状态', ORDER_STATUS_NAMES[e.order.status] ?? e.order.status, 'order-status'],
  ]);
  item.append(head, meta);
  if (e.note || e.acknowledgedAt) item.append(element('p', 'note', `处理说明（${e.acknowledgedAt ? dateTime(e.acknowledgedAt) : ''}）：${e.note ?? '无'}`));
  if (e.resolvedAt) item.append(element('p', 'hint', `${dateTime(e.resolvedAt)} 工单离开该环节，预警自动解除。`));
  const error = element('p', 'error');
  error.setAttribute('role', 'alert');
  if (e.status !== 'resolved') {
    const open = element('button', 'secondary acknowledge', e.status === 'acknowledged' ? '更新说明' : '确认');
    open.type = 'button';
    open.setAttribute('aria-label', `确认预警 ${e.order.code}`);
    const form = element('form', 'ack-form');
    form.hidden = true;
    const label = element('label', '', '处理说明（可选）');
    const note = element('textarea');
    note.name = 'note';
    note.rows = 2;
    note.maxLength = 1000;
    note.value = e.note ?? '';
    label.append(note);
    const submit = element('button', '', '提交确认');
    submit.type = 'submit';
    const cancel = element('button', 'link', '取消');
    cancel.type = 'button';
    const actions = element('div', 'actions');
    actions.append(submit, cancel);
    form.append(label, actions);
    open.addEventListener('click', () => {
      form.hidden = false;
      open.hidden = true;
      note.focus();
    });
    cancel.addEventListener('click', () => {
      form.hidden = true;
      open.hidden = false;
      error.textContent = '';
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void acknowledge(e, item, form, note.value.trim(), error);
    });
    item.append(open, form);
  }
  item.append(error);
  return item;
}

async function acknowledge(e, item, form, note, error) {
  const buttons = form.querySelectorAll('button');
  for (const button of buttons) button.disabled = true;
  error.textContent = '';
  try {
    const updated = await postJson(state.session, `escalations/${encodeURIComponent(e.id)}/acknowledge`, note ? { note } : {}, ESCALATION_WORDING);
    // Kept in place, whatever the filter: the coordinator sees what the click did.
    item.replaceWith(escalationItem({ ...updated, order: updated.order ?? e.order }));
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) return signOut('登录已失效，请重新登录。');
    if (!(failure instanceof ApiError)) console.error(failure);
    error.textContent = failure instanceof ApiError ? failure.message : '页面出错，请刷新后重试。';
    if (failure instanceof ApiError && failure.code === 'ESCALATION_RESOLVED') {
      // Nothing left to acknowledge: the order moved on.
      item.dataset.status = 'resolved';
      form.remove();
      item.querySelector('button.acknowledge')?.remove();
      item.querySelector('[data-stat="status"] dd').textContent = ESCALATION_STATUS_NAMES.resolved;
      return;
    }
  }
  for (const button of buttons) button.disabled = false;
}

// ---- broadcasts ----------------------------------------------------------------------

const BROADCAST_PAGE_SIZE = 10;
const BROADCAST_STATUS_NAMES = { queued: '排队中', sending: '发送中', done: '已完成' };
/** The first looks come quickly; an SMS held for quiet hours keeps one pending for hours, so the wait grows. */
const BROADCAST_POLL_MS = { first: 500, max: 10_000 };
const BROADCAST_WORDING = {
  messages: {
    RATE_LIMITED: (headers) => {
      const seconds = Number(headers?.get('retry-after'));
      return Number.isFinite(seconds) && seconds > 0 ? `本小时可发送的广播已达上限，请 ${Math.ceil(seconds / 60)} 分钟后再试。` : '本小时可发送的广播已达上限，请稍后再试。';
    },
    FORBIDDEN: '您只能向本区发送广播。',
    UNKNOWN_DISTRICT: '所选的区不存在。',
    IDEMPOTENCY_KEY_REUSED: '这次提交与上一次未完成的提交内容不同，请再点一次发送。',
    NOT_FOUND: '未找到该广播。',
  },
};

function isCityAdmin() {
  return state.session?.user.role === 'city_admin';
}

/** A coordinator sends to its own district; the city's administrator picks districts (none: the whole city). */
function renderBroadcastScope() {
  const field = $('broadcast-districts-field');
  if (!isCityAdmin()) {
    field.hidden = true;
    const name = state.districts[0]?.districtName ?? '本区';
    $('broadcast-scope').textContent = `广播发送给${name}内所选角色的用户；每小时最多发送 6 条。`;
    return;
  }
  field.hidden = false;
  $('broadcast-scope').textContent = '广播发送给所选区（不选则为全市）内所选角色的用户；每小时最多发送 6 条。';
  const box = $('broadcast-districts');
  const checked = new Set(Array.from(box.querySelectorAll('input:checked'), (input) => input.value));
  box.replaceChildren(
    ...state.districts.map((d) => {
      const label = element('label', 'choice');
      const input = element('input');
      input.type = 'checkbox';
      input.name = 'districtCodes';
      input.value = d.districtCode;
      input.checked = checked.has(d.districtCode);
      label.append(input, ` ${d.districtName}`);
      return label;
    }),
  );
}

const checkedValues = (name) => Array.from(document.querySelectorAll(`#broadcast-form input[name="${name}"]:checked`), (input) => input.value);

function broadcastBody() {
  const body = {
    title: $('broadcast-title').value.trim(),
    body: $('broadcast-body').value.trim(),
    roles: checkedValues('roles'),
    channels: checkedValues('channels'),
    urgent: $('broadcast-urgent').checked,
  };
  const districts = isCityAdmin() ? checkedValues('districtCodes') : [];
  if (districts.length > 0) body.districtCodes = districts;
  return body;
}

function broadcastProblem(body) {
  if (!body.title) return '请填写标题。';
  if (!body.body) return '请填写正文。';
  if (body.roles.length === 0) return '请至少选择一个接收角色。';
  if (body.channels.length === 0) return '请至少选择一个发送渠道。';
  return null;
}

async function onBroadcast(event) {
  event.preventDefault();
  const body = broadcastBody();
  const problem = broadcastProblem(body);
  if (problem) return showError('broadcast-error', new ApiError(400, 'VALIDATION_FAILED', problem));
  showError('broadcast-error', null);
  const text = JSON.stringify(body);
  // A new key for each send; only the same body again after no answer is the same send.
  const key = state.broadcastRetry?.text === text ? state.broadcastRetry.key : newIdempotencyKey();
  const button = $('broadcast-send');
  button.disabled = true;
  try {
    const accepted = await postJson(state.session, 'broadcasts', body, { headers: { 'idempotency-key': key }, ...BROADCAST_WORDING });
    state.broadcastRetry = null;
    $('broadcast-title').value = '';
    $('broadcast-body').value = '';
    state.broadcastId = accepted.id;
    renderProgress({ ...accepted, title: body.title, delivered: 0, failed: 0, pending: accepted.recipients });
    void guarded('broadcast-error', loadBroadcasts);
    void guarded('broadcast-error', () => pollBroadcast(accepted.id, BROADCAST_POLL_MS.first));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut('登录已失效，请重新登录。');
    const unanswered = error instanceof ApiError && (error.status === 0 || error.status >= 500);
    state.broadcastRetry = unanswered ? { text, key } : null;
    if (!(error instanceof ApiError)) console.error(error);
    showError('broadcast-error', error);
  } finally {
    button.disabled = false;
  }
}

function stopBroadcastPolling() {
  clearTimeout(state.broadcastTimer);
  state.broadcastTimer = null;
}

/** Looks at the broadcast until nothing is pending, then refreshes the recent list. */
async function pollBroadcast(id, delay) {
  stopBroadcastPolling();
  const broadcast = await getJson(state.session, `broadcasts/${encodeURIComponent(id)}`, BROADCAST_WORDING);
  if (state.broadcastId !== id) return;
  renderProgress(broadcast);
  if (broadcast.status === 'done' && broadcast.pending === 0) return loadBroadcasts();
  state.broadcastTimer = setTimeout(() => void guarded('broadcast-error', () => pollBroadcast(id, Math.min(delay * 1.5, BROADCAST_POLL_MS.max))), delay);
}

function renderProgress(b) {
  const box = $('broadcast-progress');
  box.hidden = false;
  box.dataset.id = b.id;
  box.dataset.status = b.status;
  const finished = b.status === 'done' && b.pending === 0;
  $('broadcast-progress-title').textContent = `「${b.title}」${finished ? '已发送完毕' : BROADCAST_STATUS_NAMES[b.status] ?? b.status}`;
  const bar = $('broadcast-bar');
  bar.max = Math.max(b.recipients, 1);
  bar.value = b.recipients === 0 ? (finished ? 1 : 0) : b.delivered + b.failed;
  bar.setAttribute('aria-label', `已处理 ${b.delivered + b.failed} / ${b.recipients}`);
  stats($('broadcast-stats'), [
    ['接收人', String(b.recipients), 'recipients'],
    ['已送达', String(b.delivered), 'delivered'],
    ['失败', String(b.failed), 'failed'],
    ['待发送', String(b.pending), 'pending'],
  ]);
}

async function loadBroadcasts() {
  const page = await getJson(state.session, `broadcasts?limit=${BROADCAST_PAGE_SIZE}`, BROADCAST_WORDING);
  $('broadcast-table').tBodies[0].replaceChildren(
    ...page.items.map((b) => {
      const tr = document.createElement('tr');
      tr.dataset.id = b.id;
      cell(tr, b.urgent ? `【紧急】${b.title}` : b.title);
      cell(tr, dateTime(b.createdAt));
      cell(tr, BROADCAST_STATUS_NAMES[b.status] ?? b.status);
      cell(tr, String(b.recipients), 'num');
      cell(tr, String(b.delivered), 'num');
      cell(tr, String(b.failed), b.failed > 0 ? 'num rate-low' : 'num');
      cell(tr, String(b.pending), b.pending > 0 ? 'num pending' : 'num');
      return tr;
    }),
  );
  $('broadcasts-empty').hidden = page.items.length > 0;
  $('broadcast-table').closest('.table-wrap').hidden = page.items.length === 0;
}

// ---- CSV ------------------------------------------------------------------------

function csvRequest(kind) {
  const from = $('from').value;
  const to = $('to').value;
  const d = state.district;
  if (kind === 'districts') return [`coverage/districts?${periodQuery()}`, `各区覆盖率_${from}_${to}.csv`];
  if (kind === 'district') return [`coverage/districts/${d.districtCode}?${periodQuery()}`, `${d.districtName}覆盖率_${from}_${to}.csv`];
  if (kind === 'scorecards') {
    const which = $('scorecard-kind').value;
    return [`scorecards/${which}?${periodQuery()}`, `三率_${SCORECARD_KINDS[which]}_${from}_${to}.csv`];
  }
  const audience = gapAudience();
  const query = new URLSearchParams({ days: String(gapDays()) });
  if (audience) query.set('audience', audience);
  return [`coverage/districts/${d.districtCode}/gaps?${query}`, `${d.districtName}${audience ? AUDIENCE_NAMES[audience] : ''}服务空白社区_近${gapDays()}天.csv`];
}

async function onCsv(event) {
  const button = event.currentTarget;
  button.disabled = true;
  await guarded('board-error', () => downloadCsv(state.session, ...csvRequest(button.dataset.csv)));
  button.disabled = false;
}

// ---- start ----------------------------------------------------------------------

function start() {
  $('from').value = beijingToday(-89);
  $('to').value = beijingToday();
  $('login-form').addEventListener('submit', (event) => void onLogin(event));
  $('logout').addEventListener('click', () => signOut(''));
  $('period').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadCity();
  });
  $('gaps-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded('board-error', () => busy($('district'), () => loadGaps({ reset: true })));
  });
  $('gaps-more').addEventListener('click', () => void guarded('board-error', () => busy($('district'), () => loadGaps({ reset: false }))));
  for (const button of document.querySelectorAll('[data-csv]')) button.addEventListener('click', (event) => void onCsv(event));
  for (const button of document.querySelectorAll('button.sort')) button.addEventListener('click', onSort);
  $('scorecard-kind').addEventListener('change', () => void guarded('board-error', loadScorecards));
  $('scorecards-form').addEventListener('submit', (event) => event.preventDefault());
  $('gap-audience').addEventListener('change', () => void guarded('board-error', () => busy($('district'), () => loadGaps({ reset: true }))));
  const reloadEscalations = (reset) => void guarded('escalations-error', () => busy($('escalations'), () => loadEscalations({ reset })));
  $('escalations-form').addEventListener('submit', (event) => {
    event.preventDefault();
    reloadEscalations(true);
  });
  $('escalation-status').addEventListener('change', () => reloadEscalations(true));
  $('escalations-more').addEventListener('click', () => reloadEscalations(false));
  $('broadcast-form').addEventListener('submit', (event) => void onBroadcast(event));
  state.session = loadSession();
  if (state.session) void showBoard();
  else showLogin();
}

start();
