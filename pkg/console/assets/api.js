// The API on this origin. The session token lives in sessionStorage (this
// tab only, gone when it closes), never in lasting storage, a cookie or a URL.
const KEY = "ums-console-token";
let token = sessionStorage.getItem(KEY) || "";
let ended = () => {};

export const session = {
  get token() { return token; },
  set(t) { token = t; sessionStorage.setItem(KEY, t); },
  clear() { token = ""; sessionStorage.removeItem(KEY); },
  // onEnd is called when the server no longer accepts the token.
  onEnd(fn) { ended = fn; },
};

// Problem is an API refusal: RFC 9457 problem details.
export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || "The request failed (" + status + ").");
    this.status = status;
    this.code = (body && body.code) || "";
    this.errors = (body && body.errors) || [];
    this.retryAfter = 0;
  }
}

// qs makes a query string of the parameters that have a value.
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// call sends one request and returns {status, data, etag}, or throws a
// Problem. A 401 "unauthorized" means the session is over (expired,
// revoked, or the account changed): the console signs out.
export async function call(method, path, opts = {}) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: "no-store", credentials: "omit", redirect: "error",
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
  } catch {
    throw new Problem(0, { detail: "The server could not be reached. Check the connection and try again." });
  }
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    const p = new Problem(res.status, data);
    p.retryAfter = Number(res.headers.get("Retry-After")) || 0;
    if (res.status === 401 && p.code === "unauthorized" && token) {
      session.clear();
      ended(p);
    }
    throw p;
  }
  return { status: res.status, data, etag: res.headers.get("ETag") };
}

export const get = async (path, params) => (await call("GET", path + qs(params))).data;
export const post = async (path, body) => (await call("POST", path, { body: body || {} })).data;
export const del = async (path) => (await call("DELETE", path)).data;
