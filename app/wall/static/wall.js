// The wall: headline tiles, map, ranking and charts of one indicator, Decision 766 panel,
// alerts and data quality, for one scope (the province or a district), live from /stream.
import { api, daily, dayStart, DAY, dropUrlKey, floorHour, HOUR, hourly, key, monthStart, operatorKey, signIn, signOut,
  statusOf, targetFor, thin, urlKey, view, viewUrl, windowed, windowOf } from "./data.js";
import { COLOURS, bars, cellMap, el, sequential, sparkline, text } from "./draw.js";
import { clock, dayLabel, fmt, lang, monthName, num, placeName, shortName, t, time, unitName } from "./i18n.js";
import { alerts, dataQuality, index766 } from "./panels.js";

// Headline tiles: [indicator, window]. Public-service rates show the calendar month so far
// beside the last complete one; the rest the last 24 hours (attendance: 30 days, daily only).
const TILES = [
  ["health.encounters", "24h"], ["health.emergency_share", "24h"], ["health.bed_occupancy", "24h"],
  ["education.attendance_rate", "30d"], ["tourism.visitors", "24h"], ["citizen.reports", "24h"],
  ["ps.online_submission_rate", "month"], ["ps.on_time_rate", "month"],
];
const DEFAULT_PICK = "ps.online_submission_rate";
const $ = (id) => document.getElementById(id);
const ctx = { lang, catalogue: {}, units: {}, now: Date.now(), canAct: false, readsAll: false };

function addUnits(node, parent) {
  ctx.units[node.code] = { name: node.name, level: node.level, parent, children: (node.children || []).map((c) => c.code) };
  (node.children || []).forEach((c) => addUnits(c, node.code));
}
const unitLevel = (code) => ctx.units[code].level;
const childLevel = () => (unitLevel(ctx.scope) === "province" && view.hierarchy === "2020" ? "district" : "commune");
const valueText = (r, ind) => (r.value === null ? "—" : fmt(r.value, ind));
const withUnit = (r, ind) => `${valueText(r, ind)}${ind.unit === "%" ? " %" : ind.additive ? "" : " " + unitName(ind.unit)}`;

// Change against the same time a week earlier: points for shares, per cent for counts.
function delta(ind, now, then) {
  if (now === null || then === null || then === undefined) return ["", "flat"];
  const d = ind.unit === "%" ? now - then : then ? (100 * (now - then)) / then : null;
  if (d === null) return ["", "flat"];
  const good = ind.higher_is_better === null ? null : (d > 0) === ind.higher_is_better;
  const arrow = Math.abs(d) < 0.05 ? "■" : d > 0 ? "▲" : "▼";
  // No-break spaces: a wrapped line never parts a figure from its arrow or its unit.
  const txt = `${arrow}\u00a0${num(Math.abs(d), 1)}${ind.unit === "%" ? (lang === "en" ? "\u00a0pt" : "\u00a0điểm") : "\u00a0%"}`;
  return [txt, good === null || Math.abs(d) < 0.05 ? "flat" : good ? "up" : "down"];
}

function tileShell(code) {
  const ind = ctx.catalogue[code];
  const tile = document.createElement("div");
  tile.className = "tile";
  tile.id = "tile-" + code.replace(".", "-");
  tile.dataset.indicator = code;
  tile.innerHTML = '<div class="name"></div><div class="row"><span class="value">…</span><svg></svg></div>'
    + '<div class="line window"></div><div class="line change"></div><div class="line compare"></div>';
  tile.querySelector(".name").textContent = shortName(ind);
  tile.querySelector(".name").title = ind.description;
  tile.addEventListener("click", () => { location.href = viewUrl({ indicator: code }); });
  return tile;
}

// A tile: the window's figure (greyed when its count is too small to conclude), a 30-day
// sparkline, the window and its count, the change against the same time a week earlier, and
// for a partial month the last complete one.
async function loadTile([code, win]) {
  const ind = ctx.catalogue[code], tile = $("tile-" + code.replace(".", "-"));
  if (!tile) return;
  const [byUnit, days] = await Promise.all([windowed(ind, win, ctx.now, { unit: ctx.scope }), daily(ind, ctx.now, ctx.scope)]);
  let r = byUnit.get(ctx.scope) ?? { value: null, n: 0, ratio: !!ind.denominator, from: ctx.now };
  // A count with nothing in its window while its stream sent data this month counted zero
  // (a quiet night at the hotline), not "no data": a dead feed shows in data quality.
  if (r.value === null && !r.ratio && days.some((v) => v.value)) r = { ...r, value: 0 };
  const status = thin(r) ? "none" : statusOf(ind, r.value, unitLevel(ctx.scope), ctx.now);
  const flash = tile.dataset.shown !== undefined && tile.dataset.shown !== String(r.value);
  tile.className = `tile ${status}${thin(r) ? " thin" : ""}${flash ? " flash" : ""}`;
  tile.dataset.shown = String(r.value);
  const value = tile.querySelector(".value");
  value.textContent = r.value === null ? t("no_data") : valueText(r, ind);
  value.classList.toggle("empty", r.value === null);
  // A count's name says what it counts; other figures carry their unit.
  if (r.value !== null && !ind.additive) value.append(Object.assign(document.createElement("span"), { className: "unit", textContent: ind.unit === "%" ? "%" : unitName(ind.unit) }));
  sparkline(tile.querySelector("svg"), days.map((v) => ({ value: v.value })));

  const n = r.ratio ? `n = ${num(r.n, 0)}${thin(r) ? ` (${t("few")})` : ""}` : "";
  const hours = Math.round((ctx.now - r.from) / HOUR);
  const line = tile.querySelector(".window");
  line.textContent = win === "month" ? `${monthName(ctx.now)} ${t("partial")} · ${hours} h`
    : [t(win === "24h" ? "w24h" : "w30d"), n].filter(Boolean).join(" · ");
  line.classList.toggle("partial", win === "month" || thin(r));
  // Week-on-week: the 24-hour window against the same hours a week earlier; else the last
  // complete day against the same weekday a week earlier.
  const yesterday = days.find((v) => v.start === dayStart(ctx.now) - DAY);
  const weekAgo = days.find((v) => v.start === dayStart(ctx.now) - 8 * DAY);
  const [was, is] = win === "24h" ? [r.week ?? null, r] : [weekAgo ?? null, yesterday ?? null];
  const [dtext, dclass] = delta(ind, is?.value ?? null, was?.value ?? null);
  const change = tile.querySelector(".change");
  change.className = "line change " + dclass;
  // A month tile's change is a day's (yesterday against a week before), said so: beside the
  // month's count it would read as the month's own change.
  change.textContent = win === "month" ? [n, dtext && `${t("yesterday")}\u00a0${dtext}`].filter(Boolean).join(" · ")
    : dtext ? `${dtext} · ${t("same_last_week")} ${valueText(was, ind)}` : `${t("same_last_week")}: —`;
  change.title = t("vs_last_week");
  const target = targetFor(ind, new Date(ctx.now).getUTCFullYear(), unitLevel(ctx.scope));
  const unitSign = ind.unit === "%" ? " %" : "";
  tile.querySelector(".compare").textContent = win === "month"
    ? `${monthName(monthStart(ctx.now, 1))}: ${r.prev ? withUnit(r.prev, ind) : "—"}`
    : target ? `${t("target")} ${ind.higher_is_better ? "≥" : "≤"} ${fmt(target.value, ind)}${unitSign}` : "";
  ctx.asOf = Math.max(ctx.asOf ?? 0, r.asOf ?? 0);
}

// Map, ranking and the two charts of the chosen indicator.
async function loadPick() {
  const ind = ctx.catalogue[ctx.pick], level = childLevel();
  let win = windowOf(ind), widened = false;
  let results = await windowed(ind, win, ctx.now, { unit: ctx.scope, level });
  // A share whose 24 hours leave every unit too few to conclude (a district's communes in
  // the small hours) is mapped and ranked over 30 days instead where those conclude, and the
  // map says so, rather than show a map all grey.
  if (win === "24h" && ind.denominator && ind.buckets.includes("day") && [...results.values()].every(thin)) {
    const month = await windowed(ind, "30d", ctx.now, { unit: ctx.scope, level });
    if (![...month.values()].every(thin)) [win, widened, results] = ["30d", true, month];
  }
  const counts = ind.higher_is_better === null;
  const max = Math.max(1, ...[...results.values()].map((r) => r.value ?? 0));
  const colourOf = (r) => (!r || r.value === null || thin(r) ? COLOURS.none
    : counts ? sequential(r.value / max) : COLOURS[statusOf(ind, r.value, level, ctx.now)]);
  $("map-title").textContent = t("map");
  const winText = win === "24h" ? t("w24h") : win === "30d" ? t("w30d") : `${monthName(ctx.now)} (${t("partial")})`;
  $("map-window").textContent = `${winText}${widened ? ` (${t("widened")})` : ""} · ${t("asof")} ${time(ctx.now)}`;
  const mine = ctx.cells.cells.filter((c) => ctx.scope === ctx.root || c.parent_code === ctx.scope);
  const unitOf = (c) => (level === "district" ? c.parent_code : c.code);
  cellMap($("map"), mine, {
    colour: (c) => colourOf(results.get(unitOf(c))),
    title: (c) => `${placeName(c.name)} (${placeName(ctx.units[c.parent_code]?.name ?? "")}): ${results.get(unitOf(c)) ? withUnit(results.get(unitOf(c)), ind) : "—"}`,
    onClick: level === "district" ? (c) => { location.href = viewUrl({ unit: c.parent_code }); } : null,
  });
  const legend = $("legend");
  legend.replaceChildren();
  const key = (colour, label) => { const s = document.createElement("span"), i = document.createElement("i"); i.style.background = colour; s.append(i, label); legend.append(s); };
  if (counts) { key(sequential(0), t("less")); key(sequential(1), `${t("more")} (${num(max, 0)})`); }
  else ["green", "amber", "red"].forEach((s) => key(COLOURS[s], t(s)));
  key(COLOURS.none, `${t("no_data")} / ${t("too_few")}`);
  legend.append(Object.assign(document.createElement("span"), { textContent: t("map_note") }));

  $("ranking-title").textContent = t(level === "district" ? "ranking_districts" : "ranking_communes");
  $("ranking-title").title = shortName(ind);
  const empty = { value: null, n: 0, ratio: !!ind.denominator };
  const rows = ctx.units[ctx.scope].children.map((code) => [code, results.get(code) ?? empty]);
  const dir = ind.higher_is_better === false ? 1 : -1;
  rows.sort(([, a], [, b]) => (thin(a) - thin(b)) || ((a.value === null) - (b.value === null)) || dir * ((a.value ?? 0) - (b.value ?? 0)));
  const body = $("ranking").tBodies[0];
  body.replaceChildren();
  // Units too few to conclude (or without a figure) are listed under the ranked ones without
  // a rank, and the title says what the dash means.
  const unranked = (r) => thin(r) || r.value === null;
  const title = $("ranking-title");
  if (rows.some(([, r]) => unranked(r))) title.append(text("span", ` · – ${t("too_few")}`, "note"));
  rows.forEach(([code, r], i) => {
    const tr = body.insertRow();
    tr.className = (level === "district" ? "link" : "") + (thin(r) ? " thin" : "");
    const name = document.createElement("td"), dot = document.createElement("span");
    dot.className = `dot ${thin(r) ? "none" : counts ? "" : statusOf(ind, r.value, level, ctx.now)}`;
    if (counts && !thin(r) && r.value !== null) dot.style.background = sequential(r.value / max);
    name.className = "name"; name.title = placeName(ctx.units[code].name);
    name.append(dot, name.title);
    tr.insertCell().textContent = unranked(r) ? "–" : String(i + 1);
    tr.append(name);
    const v = tr.insertCell(); v.className = "num"; v.textContent = valueText(r, ind);
    if (level === "district") tr.addEventListener("click", () => { location.href = viewUrl({ unit: code }); });
  });

  fitNames([...body.querySelectorAll("td.name")]);
  trimRanking(body, level);

  const [hours, days] = await Promise.all([hourly(ind, ctx.now, ctx.scope), daily(ind, ctx.now, ctx.scope)]);
  const target = targetFor(ind, new Date(ctx.now).getUTCFullYear(), unitLevel(ctx.scope));
  const point = (v, partial, label) => ({ value: v.value, partial, status: thin({ ratio: !!ind.denominator, n: v.denominator ?? 0 }) ? "none" : v.status === "none" && counts ? null : v.status, title: `${label}: ${v.value === null ? "—" : fmt(v.value, ind)}` });
  const axis = (p) => (p.max !== undefined ? num(p.max, ind.additive ? 0 : 1) + (ind.unit === "%" ? " %" : "") : p.text);
  // One bar per hour and per day, empty where the API has no bucket, so gaps show as gaps.
  const slots = (values, first, count, step) => {
    const at = new Map(values.map((v) => [v.start, v]));
    return Array.from({ length: count }, (_, i) => at.get(first + i * step) ?? { start: first + i * step, value: null, denominator: 0, status: "none" });
  };
  const h = floorHour(ctx.now), d = dayStart(ctx.now);
  $("chart-24h-title").textContent = t("chart_24h");
  bars($("chart-24h"), slots(hours || [], h - 23 * HOUR, 24, HOUR).map((v) => ({ ...point(v, v.start === h, time(v.start)), text: time(v.start) })),
    { label: axis, target: target?.value, every: 6, note: hours ? null : t("no_hourly") });
  $("chart-30d-title").textContent = t("chart_30d");
  bars($("chart-30d"), slots(days, d - 29 * DAY, 30, DAY).map((v) => ({ ...point(v, v.start === d, dayLabel(v.start)), text: dayLabel(v.start) })),
    { label: axis, target: target?.value, every: 7, note: days.length ? null : t("no_data") });
  for (const id of ["chart-24h", "chart-30d"]) $(id).classList.remove("loading");
}

// When a place name is too long for its row, every name of three words or more keeps its
// last words and shortens the first to its initial, as road signs do ("Điện Thắng Trung" →
// "Đ. Thắng Trung": a district's communes often share that first word), so the list reads
// alike; a name still too long wraps. The full name is each row's tooltip.
function fitNames(cells) {
  if (!cells.some(overflows)) return;
  for (const td of cells) {
    const label = td.lastChild, words = label.textContent.split(" ");
    if (words.length > 2) label.textContent = `${words[0][0]}. ${words.slice(1).join(" ")}`;
  }
  for (const td of cells) if (overflows(td)) td.classList.add("wrap");
}
// Whether a cell's dot and name need more than its width, to the fraction of a pixel that
// the rounded scrollWidth hides (and an ellipsis shows).
const measure = document.createElement("canvas").getContext("2d");
function overflows(td) {
  const s = getComputedStyle(td), dot = td.firstChild;
  measure.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
  const need = dot.getBoundingClientRect().width + parseFloat(getComputedStyle(dot).marginRight)
    + measure.measureText(td.lastChild.textContent).width;
  return need > td.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 0.5;
}

// A ranking longer than its panel (a province's 2025 communes) shows its top and its bottom
// with a line between saying how many it leaves out, rather than rows cut at the panel's
// edge; the map shows them all.
function trimRanking(body, level) {
  const rows = [...body.rows], panel = body.closest(".panel");
  const room = () => panel.getBoundingClientRect().bottom - parseFloat(getComputedStyle(panel).paddingBottom);
  const over = () => body.lastElementChild.getBoundingClientRect().bottom > room() + 0.5;
  if (!rows.length || !over()) return;
  const gap = body.insertRow(0), cell = gap.insertCell();
  cell.colSpan = 3; gap.className = "gap";
  let top = rows.length, bottom = 0; // rows shown: rows[0, top) and the last `bottom`
  const show = () => {
    rows.forEach((r, i) => { r.hidden = i >= top && i < rows.length - bottom; });
    body.insertBefore(gap, rows[top] ?? null);
    cell.textContent = `… ${rows.length - top - bottom} ${t(level === "district" ? "more_districts" : "more_communes")}`;
  };
  const rowH = rows[0].getBoundingClientRect().height;
  const fit = Math.max(2, Math.floor((room() - rows[0].getBoundingClientRect().top) / rowH) - 1);
  top = Math.ceil(fit / 2); bottom = fit - top;
  show();
  while (over() && top + bottom > 2) { if (top > bottom) top--; else bottom--; show(); }
}

// Until a panel has its first figures it says so, rather than stand empty.
function loading() {
  for (const id of ["chart-24h", "chart-30d", "idx"]) {
    const box = $(id);
    box.classList.add("loading");
    if (box.tagName === "svg") el("text", { x: 8, y: 32 }, box).textContent = t("loading");
    else box.textContent = t("loading");
  }
}

function header() {
  const root = ctx.units[ctx.root];
  document.title = `IOC · ${placeName(root.name)}`;
  $("title").textContent = `${t("title")} — ${root.name}`;
  const crumbs = $("crumbs");
  crumbs.replaceChildren();
  const home = document.createElement("a");
  home.href = viewUrl({ unit: null }); home.textContent = t("province");
  crumbs.append(home);
  if (ctx.scope !== ctx.root) crumbs.append(` › ${ctx.units[ctx.scope].name}`);
  crumbs.append(` · ${t(view.hierarchy === "2025" ? "h2025" : "h2020")}`);
  $("lang-switch").textContent = t("other_lang");
  $("lang-switch").href = viewUrl({ lang: lang === "en" ? null : "en" });
  $("hierarchy-switch").textContent = t(view.hierarchy === "2025" ? "h2020" : "h2025");
  $("hierarchy-switch").href = viewUrl({ hierarchy: view.hierarchy === "2025" ? null : "2025", unit: null });
  $("signin").textContent = operatorKey() ? t("signout") : t("signin");
  $("signin").addEventListener("click", () => {
    if (operatorKey()) signOut();
    else { const k = prompt(t("signin_prompt")); if (k) signIn(k.trim()); }
    location.reload();
  });
  const pick = $("pick");
  for (const ind of Object.values(ctx.catalogue)) {
    if (!ind.buckets.includes("day") || (!ind.open_data && !ctx.readsAll)) continue;
    pick.add(new Option(shortName(ind), ind.code, false, ind.code === ctx.pick));
  }
  pick.addEventListener("change", () => { location.href = viewUrl({ indicator: pick.value }); });
}

const timers = {};
const later = (name, ms, fn) => { clearTimeout(timers[name]); timers[name] = setTimeout(() => fn().catch(report), ms); };

function listen() {
  const codes = new Set([...TILES.map(([c]) => c), ctx.pick]);
  // The stream sends values in the view's own hierarchy, so either tree follows its scope.
  const liveUnit = ctx.scope;
  const q = new URLSearchParams([...[...codes].filter((c) => ctx.catalogue[c].open_data || ctx.readsAll).map((c) => ["indicator", c]), ["unit", liveUnit], ["hierarchy", view.hierarchy]]);
  if (ctx.readsAll && key()) q.set("api_key", key());
  const es = new EventSource(`/api/v1/stream?${q}`);
  const live = $("live");
  es.onopen = () => { live.className = "on"; live.textContent = t("live"); };
  es.onerror = () => { live.className = "off"; live.textContent = t("offline"); };
  es.addEventListener("indicator", (e) => {
    const v = JSON.parse(e.data);
    if (v.unit_code !== liveUnit) return;
    ctx.now = Date.now();
    for (const tile of TILES.filter(([c]) => c === v.indicator)) later(tile[0], 200, () => loadTile(tile));
    if (v.indicator === ctx.pick) later("pick", 2000, loadPick);
  });
  es.addEventListener("alert", () => later("alerts", 500, () => alerts(ctx)));
  es.addEventListener("source", () => later("dq", 5000, () => dataQuality(ctx)));
  es.addEventListener("reset", () => later("all", 500, refresh));
}

async function refresh() {
  ctx.now = Date.now();
  await Promise.all([...TILES.map(loadTile), loadPick(), index766(ctx),
    ...(ctx.readsAll ? [alerts(ctx), dataQuality(ctx)] : [])]);
  $("asof").textContent = ctx.asOf ? `${t("asof")} ${time(Math.min(ctx.asOf, ctx.now))}` : t("no_data");
}

function report(err) {
  const box = $("error");
  box.hidden = false;
  box.textContent = `${t("error")}: ${err.message}`;
  console.warn(err);
}

async function main() {
  document.documentElement.lang = lang;
  setInterval(() => { $("clock").textContent = clock(Date.now()); }, 1000);
  $("clock").textContent = clock(Date.now());
  if (urlKey) {
    // A URL is no place for a key that can act: only a read-only wall key is used from it.
    const me = await api("/auth/me").catch(() => null);
    if (me && me.role !== "wall" && !operatorKey()) { dropUrlKey(); report(new Error(t("wall_key_only"))); }
  }
  const me = key() ? await api("/auth/me") : { role: "public" };
  ctx.readsAll = ["wall", "operator", "admin"].includes(me.role);
  ctx.canAct = ["operator", "admin"].includes(me.role);
  document.body.classList.toggle("public", !ctx.readsAll);
  // Beside alerts and data quality, the 766 panel moves under the ranking.
  if (ctx.readsAll) $("column-c").append($("index766"));
  const [catalogue, tree, cells, serviceIndex] = await Promise.all([
    api("/indicators"), api(`/units?hierarchy=${view.hierarchy}`),
    fetch(`/wall/cells?hierarchy=${view.hierarchy}`).then((r) => r.json()), api("/service-index"),
  ]);
  catalogue.forEach((i) => { ctx.catalogue[i.code] = i; });
  tree.forEach((n) => addUnits(n, null));
  ctx.root = tree[0].code;
  ctx.scope = view.unit && ctx.units[view.unit] && ctx.units[view.unit].level !== "commune" ? view.unit : ctx.root;
  ctx.pick = ctx.catalogue[view.indicator] ? view.indicator : DEFAULT_PICK;
  ctx.cells = cells;
  ctx.serviceIndex = serviceIndex;
  header();
  const tiles = $("tiles");
  for (const [code] of TILES) if (ctx.catalogue[code]) tiles.append(tileShell(code));
  loading();
  // Live from the start: the dot says whether the stream is open, and an update that lands
  // while the first figures load reloads its tile after them.
  listen();
  await refresh();
  setInterval(() => refresh().catch(report), 60_000);
}

main().catch(report);
