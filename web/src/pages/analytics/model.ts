// The Analytics page's data (GET /api/v1/analytics/SERVICE/ENV) and the geometry of its
// charts, as pure functions: scales, ticks, the line's path, the marks of deliveries and change
// points, and the words for numbers (times, p-values, effects).

export interface ChangePoint {
  index: number;
  time: number | null;
  before: number | null;
  after: number | null;
  change: number | null;
  p_value: number | null;
}

export interface SeriesDoc {
  scope: string;
  name: string;
  points: number;
  dropped: number;
  times: (number | null)[] | null; // Unix seconds; null: rows without times (by index)
  values: (number | null)[];
  low: (number | null)[] | null; // bucket minimum, when the series was thinned
  high: (number | null)[] | null;
  changepoints: ChangePoint[];
}

export interface MetricDoc {
  name: string;
  direction: "higher_is_worse" | "higher_is_better";
  weight: number;
  critical: boolean;
  series: SeriesDoc[];
  more: number;
  problem: string | null;
}

export interface DeliveryDoc {
  time: number;
  commit: string;
  previous: string | null;
  target: string;
  wave: number;
}

export interface MetricVerdict {
  metric: string;
  verdict: string;
  reason: string;
  p_value: number | null;
  effect: number | null;
  interval: (number | null)[] | null;
  relative: number | null;
  mde: number | null;
  n_before: number;
  n_after: number;
}

export interface TargetVerdict {
  target: string;
  wave: number;
  delivered: number;
  verdict: "regression" | "inconclusive" | "pass";
  reason: string;
  metrics: MetricVerdict[];
}

export interface ImpactDoc {
  commit: string;
  problem: string | null;
  targets: TargetVerdict[];
}

export interface AnalyticsDoc {
  configured: boolean;
  reason: string | null;
  service: string;
  env: string;
  notes: string[];
  start?: number;
  end?: number;
  window_seconds?: number;
  source?: string;
  metrics: MetricDoc[];
  deliveries: DeliveryDoc[];
  impacts: ImpactDoc[];
}

export const PERIODS: Record<string, number> = { "1d": 86400, "2d": 2 * 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
export const WINDOWS = ["15m", "30m", "1h", "2h"];

/** The query of the API for the page's fragment query: ?period=7d&window=30m, or from/to. */
export function queryOf(query: URLSearchParams, now: number): Record<string, string> {
  const out: Record<string, string> = {};
  const from = query.get("from");
  const to = query.get("to");
  const period = PERIODS[query.get("period") ?? ""];
  if (from) out.from = from;
  else if (period) out.from = String(Math.floor(now / 1000 - period));
  if (to) out.to = to;
  const window = query.get("window");
  if (window && WINDOWS.includes(window)) out.window = window;
  return out;
}

export type Scale = (value: number) => number;

export function linear(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** The smallest and largest finite numbers of `lists`, widened when they are one value. */
export function extent(...lists: ((number | null)[] | null | undefined)[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const list of lists) {
    for (const v of list ?? []) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.05, hi + (Math.abs(hi) || 1) * 0.05];
  return [lo, hi];
}

/** About `count` round numbers spanning [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** The x of each point: its time, or its row number for a series without times. */
export function xsOf(series: SeriesDoc): number[] {
  return series.times ? series.times.map((t, i) => t ?? i) : series.values.map((_, i) => i);
}

/** An SVG path through the points, broken where a value is missing. */
export function linePath(xs: number[], ys: (number | null)[], sx: Scale, sy: Scale): string {
  const parts: string[] = [];
  let pen = "M";
  ys.forEach((y, i) => {
    const x = xs[i];
    if (y === null || x === undefined || !Number.isFinite(y)) {
      pen = "M";
      return;
    }
    parts.push(`${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    pen = "L";
  });
  return parts.join("");
}

/** The band between the buckets' minimum and maximum (a thinned series), as one closed path. */
export function bandPath(xs: number[], low: (number | null)[], high: (number | null)[], sx: Scale, sy: Scale): string {
  const top: string[] = [];
  const bottom: string[] = [];
  xs.forEach((x, i) => {
    const lo = low[i];
    const hi = high[i];
    if (lo === null || lo === undefined || hi === null || hi === undefined) return;
    top.push(`${sx(x).toFixed(1)},${sy(hi).toFixed(1)}`);
    bottom.push(`${sx(x).toFixed(1)},${sy(lo).toFixed(1)}`);
  });
  if (top.length < 2) return "";
  return `M${top.join("L")}L${bottom.reverse().join("L")}Z`;
}

export interface Mark {
  x: number; // in the data's x (time or row)
  label: string;
  detail: string;
}

export function deliveryMarks(deliveries: DeliveryDoc[], series: SeriesDoc): Mark[] {
  if (!series.times) return []; // rows without times: the deliveries cannot be placed
  return deliveries.map((d) => ({ x: d.time, label: short(d.commit), detail: `${short(d.commit)} delivered to ${d.target} at ${formatTime(d.time)}` }));
}

export function changeMarks(series: SeriesDoc): Mark[] {
  return series.changepoints.map((cp) => ({
    x: cp.time ?? cp.index,
    label: formatChange(cp.change),
    detail: `change point at ${cp.time !== null ? formatTime(cp.time) : `row ${cp.index}`}: ${formatNumber(cp.before)} → ${formatNumber(cp.after)} (${formatChange(cp.change)}, p ${formatP(cp.p_value)})`,
  }));
}

export function short(commit: string): string {
  return commit.slice(0, 7);
}

export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/:\d\d\.\d+Z$/, "Z").replace("T", " ");
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}

export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  if (p < 1e-4) return `< 0.0001`;
  return p.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

export function formatChange(change: number | null | undefined): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return "—";
  const pct = change * 100;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%`;
}

export function formatInterval(interval: (number | null)[] | null | undefined): string {
  if (!interval || interval.length !== 2) return "—";
  return `${formatNumber(interval[0])} to ${formatNumber(interval[1])}`;
}

/** The CSS class of a verdict: bad (regression), good (improvement, pass), unsure, neutral. */
export function verdictClass(verdict: string): string {
  if (verdict === "regression") return "bad";
  if (verdict === "improvement" || verdict === "pass") return "good";
  if (verdict === "inconclusive") return "unsure";
  return "neutral";
}

/** One line of words for a metric's chart, for its accessible name. */
export function describeSeries(metric: MetricDoc, series: SeriesDoc, deliveries: number): string {
  const [lo, hi] = extent(series.values);
  const shifts = series.changepoints.length;
  return (
    `${metric.name} (${series.name}): ${series.points} points from ${formatNumber(lo)} to ${formatNumber(hi)}, ` +
    `${shifts === 0 ? "no change point" : `${shifts} change point${shifts > 1 ? "s" : ""}`}, ` +
    `${deliveries} deliver${deliveries === 1 ? "y" : "ies"} marked`
  );
}
