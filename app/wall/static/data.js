// The wall's view of the API: keys, the province's clock, series and honest windows.
const params = new URLSearchParams(location.search);
export const HOUR = 3600e3, DAY = 86400e3, VN = 7 * HOUR; // Asia/Ho_Chi_Minh: UTC+7, no DST
export const MIN_N = 30; // a share of fewer events is greyed and marked, never a headline
export const view = {
  unit: params.get("unit"),
  indicator: params.get("indicator"),
  hierarchy: params.get("hierarchy") === "2025" ? "2025" : "2020",
};

// A display's URL may carry a read-only wall key; an operator's key comes only from the
// sign-in prompt and stays in this tab (sessionStorage), never in a URL.
const OPERATOR_KEY = "ioc-operator-key";
export const urlKey = params.get("api_key");
let readKey = urlKey;
export const operatorKey = () => sessionStorage.getItem(OPERATOR_KEY);
export const key = () => operatorKey() || readKey;
export const dropUrlKey = () => { readKey = null; };
export const signIn = (k) => sessionStorage.setItem(OPERATOR_KEY, k);
export const signOut = () => sessionStorage.removeItem(OPERATOR_KEY);

export async function api(path, options = {}) {
  const k = key();
  const headers = k ? { "X-API-Key": k } : {};
  const r = await fetch("/api/v1" + path, { ...options, headers });
  if (!r.ok) throw new Error(`${r.status} ${path}`);
  return r.json();
}

// Link to another view of the wall: the same URL with some parameters changed.
export function viewUrl(changes) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) (v === null ? q.delete(k) : q.set(k, v));
  return "/wall" + (q.toString() ? "?" + q : "");
}

export const floorHour = (ms) => Math.floor(ms / HOUR) * HOUR;
export const dayStart = (ms) => Math.floor((ms + VN) / DAY) * DAY - VN;
export function monthStart(ms, back = 0) {
  const d = new Date(ms + VN);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1) - VN;
}
const iso = (ms) => new Date(ms).toISOString();

export async function series(code, { unit, level, bucket, from, to }) {
  const q = new URLSearchParams({ bucket, from: iso(from), to: iso(to), hierarchy: view.hierarchy });
  if (unit) q.set("unit", unit);
  if (level) q.set("level", level);
  const values = (await api(`/indicators/${code}/values?${q}`)).values;
  for (const v of values) v.start = Date.parse(v.period_start);
  return values;
}

const uses = (m, kinds) => !!m && (kinds.includes(m.kind) || m.plus.some((p) => uses(p, kinds)));
const STOCKS = ["open_at_start", "open_at_end", "open_overdue_at_end"];

// The honest window of an indicator: the last 24 hours where hourly figures add up; 30 days
// where there are none; the calendar month where a figure counts stocks (open dossiers at a
// period's end), which do not add up over buckets.
export function windowOf(ind) {
  if (uses(ind.numerator, STOCKS) || uses(ind.denominator, STOCKS)) return "month";
  return ind.buckets.includes("hour") ? "24h" : "30d";
}

// Σ numerators ÷ Σ denominators over buckets: a 24-hour share is not the mean of 24 hourly
// shares. A population denominator is the same in every bucket, so it is taken once.
export function combine(ind, values) {
  let num = 0, den = 0, seen = 0, asOf = 0, cover = 0, expected = 0, partial = false;
  for (const v of values) {
    partial ||= v.partial === true; // the API marks a period not over yet (or cut short)
    if (v.numerator === null) continue;
    seen++;
    num += v.numerator;
    den = ind.denominator && ind.denominator.kind === "population" ? (v.denominator ?? 0) : den + (v.denominator ?? 0);
    if (v.as_of) asOf = Math.max(asOf, Date.parse(v.as_of));
    if (v.completeness !== null && v.completeness !== undefined) { cover += v.completeness; expected++; }
  }
  const completeness = expected ? cover / expected : null;
  const base = { asOf, completeness, partial };
  if (!seen) return { ...base, value: null, n: 0, ratio: !!ind.denominator };
  if (!ind.denominator) return { ...base, value: ind.factor * num, n: num, ratio: false };
  return { ...base, value: den > 0 ? (ind.factor * num) / den : null, n: den, ratio: true };
}
export const thin = (r) => r.ratio && r.n < MIN_N;

export function targetFor(ind, year, level) {
  const mine = ind.targets.filter((t) => t.level === null || t.level === level);
  const ahead = mine.filter((t) => t.year >= year);
  if (ahead.length) return ahead.sort((a, b) => a.year - b.year || (a.level === null) - (b.level === null))[0];
  if (mine.length) return mine.sort((a, b) => b.year - a.year || (b.level !== null) - (a.level !== null))[0];
  return null;
}
export function statusOf(ind, value, level, ms) {
  if (value === null || value === undefined) return "none";
  const target = targetFor(ind, new Date(ms + VN).getUTCFullYear(), level);
  if (!target) return "none";
  const sign = ind.higher_is_better ? 1 : -1;
  if (sign * (value - target.value) >= 0) return "green";
  if (sign * (value - target.amber_at) >= 0) return "amber";
  return "red";
}

// A window's figure for one unit (or, with level, for each unit at that level), with the
// figure a week earlier for comparison, and the daily series of the last 30 days.
export async function windowed(ind, win, now, { unit, level }) {
  const h = floorHour(now), d = dayStart(now);
  const byUnit = (values) => values.reduce((m, v) => m.set(v.unit_code, [...(m.get(v.unit_code) || []), v]), new Map());
  if (win === "24h") {
    const values = await series(ind.code, { unit, level, bucket: "hour", from: h - 7 * DAY - 23 * HOUR, to: h + HOUR });
    const out = new Map();
    for (const [code, vs] of byUnit(values)) {
      const cur = combine(ind, vs.filter((v) => v.start > h - 24 * HOUR));
      const week = combine(ind, vs.filter((v) => v.start > h - 7 * DAY - 24 * HOUR && v.start <= h - 7 * DAY));
      out.set(code, { ...cur, week, from: h - 23 * HOUR });
    }
    return out;
  }
  if (win === "30d") {
    const values = await series(ind.code, { unit, level, bucket: "day", from: d - 29 * DAY, to: d + DAY });
    const out = new Map();
    for (const [code, vs] of byUnit(values)) out.set(code, { ...combine(ind, vs), from: d - 29 * DAY });
    return out;
  }
  const values = await series(ind.code, { unit, level, bucket: "month", from: monthStart(now, 1), to: monthStart(now, -1) });
  const out = new Map();
  for (const [code, vs] of byUnit(values)) {
    const cur = combine(ind, vs.filter((v) => v.start === monthStart(now)));
    const prev = combine(ind, vs.filter((v) => v.start === monthStart(now, 1)));
    out.set(code, { ...cur, prev, from: monthStart(now), partial: cur.partial || now < monthStart(now, -1) });
  }
  return out;
}

export async function daily(ind, now, unit) {
  const d = dayStart(now);
  if (!ind.buckets.includes("day")) return [];
  return series(ind.code, { unit, bucket: "day", from: d - 29 * DAY, to: d + DAY });
}
export async function hourly(ind, now, unit) {
  const h = floorHour(now);
  if (!ind.buckets.includes("hour")) return null;
  return series(ind.code, { unit, bucket: "hour", from: h - 23 * HOUR, to: h + HOUR });
}
