// The side panels: Decision 766 index, alerts (with operator actions) and data quality.
import { api, combine, monthStart, series } from "./data.js";
import { text } from "./draw.js";
import { groupShort, indicatorName, monthName, num, placeName, sectorName, sectorShort, shortName, t, time } from "./i18n.js";

const $ = (id) => document.getElementById(id);

// Decision 766: each group = weight × mean(rate ÷ 100) of its rates, for the last complete
// month and the current (partial) one; the mapping is printed under the scores.
export async function index766(ctx) {
  const idx = ctx.serviceIndex;
  $("idx-title").textContent = t("idx_title");
  $("idx-method-title").textContent = t("idx_method");
  $("idx-method").textContent = ctx.lang === "en" ? idx.method_en : idx.method_vi;
  const uses = (g) => g.indicators.map((c) => (ctx.catalogue[c] ? indicatorName(ctx.catalogue[c]) : c)).join("; ");
  const codes = [...new Set(idx.groups.flatMap((g) => g.indicators))].filter((c) => ctx.catalogue[c]);
  const rates = {};
  await Promise.all(codes.map(async (c) => {
    const vs = await series(c, { unit: ctx.scope, bucket: "month", from: monthStart(ctx.now, 1), to: monthStart(ctx.now, -1) }).catch(() => []);
    rates[c] = {
      prev: combine(ctx.catalogue[c], vs.filter((v) => v.start === monthStart(ctx.now, 1))).value,
      cur: combine(ctx.catalogue[c], vs.filter((v) => v.start === monthStart(ctx.now))).value,
    };
  }));
  const score = (which) => idx.groups.map((g) => {
    const vs = g.indicators.map((c) => rates[c]?.[which]).filter((v) => v !== null && v !== undefined);
    return vs.length ? (g.weight * vs.reduce((s, v) => s + Math.max(0, Math.min(v, 100)) / 100, 0)) / vs.length : null;
  });
  const prev = score("prev"), cur = score("cur");
  // A total out of 100 only when every group has a score: a sum over the groups that have
  // one (early in a month, often one or two) would read as a collapse of the index.
  const total = (s) => (s.every((v) => v !== null) ? s.reduce((a, v) => a + v, 0) : null);
  const scored = (s) => `${s.filter((v) => v !== null).length}/${s.length} ${t("idx_groups")}`;
  const box = $("idx");
  box.replaceChildren();
  box.classList.remove("loading");
  const head = document.createElement("div");
  head.append(text("span", num(total(prev), 1), "total"), text("span", ` ${t("idx_of")}`, "meta"));
  const hours = Math.round((ctx.now - monthStart(ctx.now)) / 3600e3);
  const month = (s) => (total(s) === null ? scored(s) : num(total(s), 1));
  box.append(head, text("div", `${monthName(monthStart(ctx.now, 1))}, ${t("idx_prev")}${total(prev) === null ? ": " + scored(prev) : ""}`, "meta"),
    Object.assign(text("div", `${monthName(ctx.now)} ${t("idx_cur")}: ${month(cur)}`, "meta partial current"), { title: `${hours} h` }));
  idx.groups.forEach((g, i) => {
    const row = document.createElement("div");
    row.className = "group";
    const line = document.createElement("div");
    line.className = "head";
    line.append(text("span", groupShort(g)), text("span", `${num(prev[i], 1)} / ${g.weight}`));
    const track = document.createElement("div"), bar = document.createElement("div");
    track.className = "track"; bar.className = "bar";
    bar.style.width = `${Math.max(0, Math.min(100, (100 * (prev[i] ?? 0)) / g.weight))}%`;
    track.append(bar);
    row.title = `${ctx.lang === "en" ? g.name_en : g.name_vi}: ${uses(g)}`;
    row.append(line, track, text("div", uses(g), "uses"));
    box.append(row);
  });
}

function age(ms, now) {
  const min = Math.max(0, Math.round((now - ms) / 60e3));
  if (min < 90) return `${min} ${t("ago_min")}`;
  if (min < 48 * 60) return `${Math.round(min / 60)} ${t("ago_h")}`;
  return `${Math.round(min / 1440)} ${t("ago_d")}`;
}

function alertText(a, ctx) {
  const ind = ctx.catalogue[a.indicator_code];
  const what = ind ? shortName(ind) : a.indicator_code;
  const fmtv = (v) => num(v, ind && ind.additive ? 0 : 1) + (ind && ind.unit === "%" ? " %" : "");
  const how = a.kind === "anomaly" ? `${t("anomaly")} ${fmtv(a.threshold)}`
    : `${a.value !== null && a.threshold !== null && a.value < a.threshold ? t("below") : t("above")} ${fmtv(a.threshold)}`;
  return `${placeName(ctx.units[a.unit_code]?.name ?? a.unit_code)} · ${what}: ${fmtv(a.value)} — ${how}`;
}

export async function alerts(ctx) {
  $("alerts-title").textContent = t("alerts");
  const inScope = (a) => ctx.scope === ctx.root || a.unit_code === ctx.scope || ctx.units[a.unit_code]?.parent === ctx.scope;
  const [open, acked] = await Promise.all(["open", "acknowledged"].map((s) => api(`/alerts?status=${s}&limit=100`)));
  const list = [...open, ...acked].filter(inScope);
  const rank = { critical: 0, warning: 1, info: 2 };
  // By severity, newest first, then by id: an alert keeps its place when it is acknowledged.
  list.sort((a, b) => rank[a.severity] - rank[b.severity] || Date.parse(b.opened_at) - Date.parse(a.opened_at) || a.id - b.id);
  const counts = $("alert-counts");
  counts.replaceChildren(...["critical", "warning", "info"].map((s) => text("span", `${t(s)}: ${list.filter((a) => a.severity === s).length}   `, `sev-${s}`)));
  const ul = $("alerts");
  ul.replaceChildren();
  if (!list.length) ul.append(text("li", t("none_open"), "meta"));
  for (const a of list.slice(0, 12)) {
    const li = document.createElement("li");
    li.dataset.id = a.id;
    li.append(text("span", t(a.severity).toUpperCase() + " ", `sev-${a.severity}`), text("span", alertText(a, ctx)));
    const meta = text("div", `${age(Date.parse(a.opened_at), ctx.now)}${a.status === "acknowledged" ? " · " + t("acknowledged") : ""} `, "meta");
    if (ctx.canAct) {
      const actions = [[`/alerts/${a.id}/ack`, "ack"], [`/alerts/${a.id}/resolve`, "resolve"]];
      for (const [path, label] of a.status === "open" ? actions : actions.slice(1)) {
        const b = text("button", t(label));
        b.type = "button";
        b.addEventListener("click", async () => { await api(path, { method: "POST" }); await alerts(ctx); });
        meta.append(b);
      }
    }
    li.append(meta);
    ul.append(li);
  }
}

export async function dataQuality(ctx) {
  $("dq-title").textContent = t("dq");
  const sources = await api("/sources");
  const by = {};
  for (const s of sources) {
    // Completeness is the share of owed reporting slots in which something arrived (the
    // catalogue's data.completeness), not events against a volume that follows the seasons.
    const g = (by[s.sector] ??= { n: 0, fresh: 0, late: 0, silent: 0, closed: 0, received: 0, expected: 0 });
    g.n++; g[s.status]++; g.expected += s.expected_slots; g.received += s.received_slots;
  }
  const body = $("dq").tBodies[0];
  body.replaceChildren();
  $("dq-note").textContent = t("dq_note");
  for (const [sector, g] of Object.entries(by)) {
    const tr = body.insertRow();
    tr.append(text("td", sectorShort(sector)), text("td", g.expected ? num((100 * g.received) / g.expected, 1) + " %" : "—", "num"));
    const status = document.createElement("td");
    status.className = "num";
    // Late and silent sources, the ones someone must chase; fresh ones are the rest.
    status.title = `${g.n} ${t("sources")}: ${g.fresh} ${t("fresh")}, ${g.late} ${t("late")}, ${g.silent} ${t("silent")}`;
    // Coloured counts (amber late, red silent) rather than dots beside them: the sector's
    // name keeps its width at the wall's type size.
    for (const [s, colour] of [["late", "amber"], ["silent", "red"]]) status.append(text("span", `${g[s]}`, `count ${colour}`));
    tr.append(status);
  }
  $("dq-title").title = `${sources.length} ${t("sources")} · ${t("completeness")} · ${t("fresh")}/${t("late")}/${t("silent")} · ${time(ctx.now)}`;
}
