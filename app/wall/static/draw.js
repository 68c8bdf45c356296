// SVG drawing, by hand (no library): sparklines, bar charts and the cell map.
const NS = "http://www.w3.org/2000/svg";
export const COLOURS = { green: "#3fb950", amber: "#f0b429", red: "#ff6b61", none: "#4b5d70" };

// An HTML element with its text (and class).
export const text = (tag, content, cls) => { const n = document.createElement(tag); n.textContent = content; if (cls) n.className = cls; return n; };

export function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.append(node);
  return node;
}
function fit(svg) {
  const { width, height } = svg.getBoundingClientRect();
  const w = Math.max(40, Math.round(width)), h = Math.max(20, Math.round(height));
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  return [w, h];
}

// The last 30 days, one point a day; the partial day (today) is a hollow dot.
export function sparkline(svg, points) {
  const [w, h] = fit(svg);
  const vs = points.map((p) => p.value).filter((v) => v !== null);
  if (vs.length < 2) return;
  const lo = Math.min(...vs), hi = Math.max(...vs), span = hi - lo || 1;
  const x = (i) => 4 + (i * (w - 8)) / Math.max(1, points.length - 1);
  const y = (v) => h - 4 - ((v - lo) * (h - 8)) / span;
  const d = points.map((p, i) => (p.value === null ? "" : `${i && points[i - 1].value !== null ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`)).join("");
  el("path", { d, fill: "none", stroke: "#58a6ff", "stroke-width": 2.5 }, svg);
  const last = points.length - 1;
  if (points[last].value !== null) el("circle", { cx: x(last), cy: y(points[last].value), r: 4, fill: "#050b12", stroke: "#f0b429", "stroke-width": 2 }, svg);
}

// Bars over time with a label every few bars, the target as a dashed line and the scale's
// top in a band of its own above the bars, where no bar can run into it.
export function bars(svg, points, { label, target, every, note }) {
  const [w, h] = fit(svg);
  if (note) { el("text", { x: 8, y: h / 2 }, svg).textContent = note; return; }
  const pad = { l: 8, r: 8, t: 30, b: 28 };
  const vs = points.map((p) => p.value ?? 0);
  const hi = Math.max(...vs, target ?? 0) || 1;
  const bw = (w - pad.l - pad.r) / Math.max(1, points.length);
  const y = (v) => h - pad.b - (v * (h - pad.t - pad.b)) / hi;
  points.forEach((p, i) => {
    const x = pad.l + i * bw;
    const bar = el("rect", { x: x + 1, y: y(p.value ?? 0), width: Math.max(1, bw - 2), height: h - pad.b - y(p.value ?? 0), fill: COLOURS[p.status] ?? "#58a6ff" }, svg);
    if (p.partial) { bar.setAttribute("fill-opacity", "0.45"); bar.setAttribute("stroke", "#f0b429"); }
    el("title", {}, bar).textContent = p.title;
    if (i % every === 0) {
      const tick = el("text", { x, y: h - 6 }, svg);
      tick.textContent = label(p);
      if (x + tick.getComputedTextLength() > w) tick.remove(); // a cut date reads as another
    }
  });
  if (target !== null && target !== undefined) {
    el("line", { x1: pad.l, x2: w - pad.r, y1: y(target), y2: y(target), stroke: "#f4f8fb", "stroke-dasharray": "8 6", "stroke-width": 2 }, svg);
  }
  el("text", { x: w - pad.r, y: pad.t - 8, "text-anchor": "end" }, svg).textContent = label({ max: hi });
}

// Commune cells, coloured by ``colour(cell)``; only ``cells`` are drawn and the view fits them.
export function cellMap(svg, cells, { colour, title, onClick }) {
  svg.replaceChildren();
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const c of cells) for (const [x, y] of c.polygon) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  const m = 0.02 * Math.max(x1 - x0, y1 - y0);
  svg.setAttribute("viewBox", `${x0 - m} ${y0 - m} ${x1 - x0 + 2 * m} ${y1 - y0 + 2 * m}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  for (const c of cells) {
    const d = "M" + c.polygon.map(([x, y]) => `${x},${y}`).join("L") + "Z";
    const path = el("path", { d, fill: colour(c), "data-code": c.code, "data-parent": c.parent_code ?? "" }, svg);
    el("title", {}, path).textContent = title(c);
    if (onClick) path.addEventListener("click", () => onClick(c));
  }
}

// A sequential blue scale for counts: dark (few) to bright (many).
export function sequential(t) {
  const a = [27, 58, 87], b = [120, 200, 255];
  const k = Math.max(0, Math.min(1, t));
  return `rgb(${a.map((v, i) => Math.round(v + k * (b[i] - v))).join(",")})`;
}
