// The coordinators' page (DESIGN.md §6): sign in, coverage of the 16 districts as a
// bar chart and a table, a district's subdistricts, its gap list and the CSVs.
// Plain DOM, no build step; text always goes in through textContent.
import { ApiError, clearSession, downloadCsv, getJson, loadSession, login } from './api.js';

const ROLE_NAMES = { city_admin: '市级管理员', district_coordinator: '区级协调员' };
const GAP_PAGE_SIZE = 20;
const DAY_MS = 24 * 3600 * 1000;
const $ = (id) => document.getElementById(id);

const state = { session: null, chart: null, districts: [], district: null, gapCursor: null };

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

// ---- sign in and out ----------------------------------------------------------

function showLogin(message = '') {
  $('board').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('username').focus();
}

function signOut(message) {
  clearSession();
  state.session = null;
  state.district = null;
  state.chart?.destroy();
  state.chart = null;
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
  if (!ROLE_NAMES[user.role]) return showError('board-error', new ApiError(403, 'FORBIDDEN', '您的账号无权查看覆盖情况（仅限市级管理员和区级协调员）。'));
  await loadCity();
}

// ---- city view ------------------------------------------------------------------

async function loadCity() {
  if ($('from').value > $('to').value) return showError('board-error', new ApiError(400, 'VALIDATION_FAILED', '开始日期不能晚于结束日期。'));
  await guarded('board-error', () =>
    busy($('city'), async () => {
      state.districts = await getJson(state.session, `coverage/districts?${periodQuery()}`);
      renderCity();
      // A coordinator has one district: open it at once. Otherwise refresh the open one.
      const open = state.districts.length === 1 ? state.districts[0].districtCode : state.district?.districtCode;
      if (open && state.districts.some((d) => d.districtCode === open)) await openDistrict(open, { scroll: false });
    }),
  );
}

function renderCity() {
  const rows = state.districts;
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

// ---- one district: subdistricts and gaps ----------------------------------------

async function openDistrict(code, { scroll = true } = {}) {
  const section = $('district');
  await guarded('board-error', () =>
    busy(section, async () => {
      state.district = await getJson(state.session, `coverage/districts/${encodeURIComponent(code)}?${periodQuery()}`);
      renderDistrict(state.district);
      section.hidden = false;
      await loadGaps({ reset: true });
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
  $('gaps-title').textContent = `服务空白社区（近 ${days} 天）`;
  const query = new URLSearchParams({ days: String(days), limit: String(GAP_PAGE_SIZE) });
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

// ---- CSV ------------------------------------------------------------------------

function csvRequest(kind) {
  const from = $('from').value;
  const to = $('to').value;
  const d = state.district;
  if (kind === 'districts') return [`coverage/districts?${periodQuery()}`, `各区覆盖率_${from}_${to}.csv`];
  if (kind === 'district') return [`coverage/districts/${d.districtCode}?${periodQuery()}`, `${d.districtName}覆盖率_${from}_${to}.csv`];
  return [`coverage/districts/${d.districtCode}/gaps?days=${gapDays()}`, `${d.districtName}服务空白社区_近${gapDays()}天.csv`];
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
  state.session = loadSession();
  if (state.session) void showBoard();
  else showLogin();
}

start();
