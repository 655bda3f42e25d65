// The page's side of the HTTP contract (API.md): the session, JSON and CSV calls,
// and RFC 9457 problem details turned into messages a coordinator can read.
// URLs are relative to /dashboard, so the page also works behind a path prefix.

const SESSION_KEY = 'kepu.dashboard.session';

/** Refreshing the tab keeps the sign-in; closing it forgets the token (sessionStorage, never a cookie). */
export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (session && typeof session.accessToken === 'string' && session.expiresAt > Date.now()) return session;
  } catch {
    // a damaged entry is the same as none
  }
  clearSession();
  return null;
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const MESSAGES = {
  UNAUTHENTICATED: '登录已失效，请重新登录。',
  FORBIDDEN: '您的账号无权查看覆盖情况（仅限市级管理员和区级协调员）。',
  NOT_FOUND: '未找到该区，或该区不在您的管理范围内。',
  VALIDATION_FAILED: '查询条件有误，请检查后重试。',
  RATE_LIMITED: '尝试次数过多，请稍后再试。',
  DEPENDENCY_UNAVAILABLE: '服务暂时不可用，请稍后重试。',
};

const FIELD_NAMES = {
  username: '用户名',
  password: '密码',
  from: '开始日期',
  to: '结束日期',
  days: '天数',
  limit: '每页条数',
  cursor: '翻页位置',
  audience: '人群',
  weeks: '周数',
  districtCode: '区',
  status: '状态',
  note: '处理说明',
  title: '标题',
  body: '正文',
  roles: '接收角色',
  channels: '发送渠道',
  districtCodes: '发送范围',
  urgent: '紧急',
};

/**
 * A problem-details answer as one zh-CN sentence; the English `detail` is never shown.
 * `messages` overrides the sentence of a code for one kind of call (a string, or a
 * function of the response headers); `invalid` starts the sentence of bad input.
 */
export function problemMessage(status, problem, headers, { messages = {}, invalid = '查询条件有误' } = {}) {
  const code = problem && typeof problem.code === 'string' ? problem.code : undefined;
  if (code && messages[code]) return typeof messages[code] === 'function' ? messages[code](headers) : messages[code];
  if (code === 'VALIDATION_FAILED' && Array.isArray(problem.errors) && problem.errors.length > 0) {
    const fields = [...new Set(problem.errors.map((e) => FIELD_NAMES[String(e.field).split(/[.[]/)[0]] ?? e.field))];
    return `${invalid}：${fields.join('、')}。`;
  }
  if (code === 'RATE_LIMITED' && headers?.get('retry-after')) return `尝试次数过多，请 ${headers.get('retry-after')} 秒后再试。`;
  if (code && MESSAGES[code]) return MESSAGES[code];
  if (status >= 500) return `服务器出错（${status}），请稍后重试。`;
  return `请求失败（${status}）。`;
}

async function send(path, init, wording) {
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'NETWORK', '无法连接服务器，请检查网络后重试。');
  }
  if (response.ok) return response;
  const problem = await response.json().catch(() => null);
  throw new ApiError(response.status, problem?.code, problemMessage(response.status, problem, response.headers, wording));
}

export async function login(username, password) {
  let response;
  try {
    response = await send('auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw new ApiError(401, error.code, '用户名或密码错误。');
    throw error;
  }
  const body = await response.json();
  // The refresh token is kept only so that signing out can end the session on the server (POST /auth/logout).
  const session = { accessToken: body.accessToken, refreshToken: body.refreshToken, user: body.user, expiresAt: Date.now() + body.expiresIn * 1000 };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/**
 * Ends the session on the server too: its refresh token (and every token of its
 * family) is revoked, so a copy left in this browser buys no new access token.
 * Best effort: the page signs out locally whatever the answer (204 always).
 */
export async function logout(session) {
  if (!session || typeof session.refreshToken !== 'string') return;
  try {
    await fetch('auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: session.refreshToken }), keepalive: true });
  } catch {
    // offline: the refresh token still runs out on its own
  }
}

export async function getJson(session, path, wording) {
  const response = await send(path, { headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' } }, wording);
  return response.json();
}

/** A write: JSON in, JSON out; `headers` adds e.g. the Idempotency-Key; `wording` as problemMessage's. */
export async function postJson(session, path, body, { headers = {}, ...wording } = {}) {
  const init = {
    method: 'POST',
    headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
  const response = await send(path, init, { invalid: '填写有误', ...wording });
  return response.json();
}

/**
 * An Idempotency-Key (API.md: ≤ 255 visible ASCII characters): 128 random bits in hex.
 * crypto.getRandomValues, not randomUUID, which plain-HTTP pages on another host lack.
 */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dashboard-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** CSV needs the bearer header too, which a plain link cannot send: fetch it, then hand the browser a Blob. */
export async function downloadCsv(session, path, filename) {
  const response = await send(path, { headers: { authorization: `Bearer ${session.accessToken}`, accept: 'text/csv' } });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
