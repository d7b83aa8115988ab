import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { App } from "../src/App";
import {
  bandPath,
  changeMarks,
  deliveryMarks,
  extent,
  formatChange,
  formatP,
  linear,
  linePath,
  queryOf,
  ticks,
  verdictClass,
  type AnalyticsDoc,
  type SeriesDoc,
} from "../src/pages/analytics/model";
import { fakeFetch, json, whoamiDoc } from "./fixtures";

const T0 = 1_800_000_000;
const SERIES: SeriesDoc = {
  scope: "payments@prod",
  name: "latency_ms",
  points: 6,
  dropped: 0,
  times: [T0, T0 + 60, T0 + 120, T0 + 180, T0 + 240, T0 + 300],
  values: [100, 101, null, 130, 131, 129],
  low: null,
  high: null,
  changepoints: [{ index: 3, time: T0 + 180, before: 100.5, after: 130, change: 0.2935, p_value: 1e-9 }],
};

const DOC: AnalyticsDoc = {
  configured: true,
  reason: null,
  service: "payments",
  env: "prod",
  notes: [],
  start: T0,
  end: T0 + 300,
  window_seconds: 1800,
  source: "files",
  metrics: [{ name: "latency_ms", direction: "higher_is_worse", weight: 1, critical: true, series: [SERIES], more: 0, problem: null }],
  deliveries: [{ time: T0 + 170, commit: "abcdef0123456789", previous: null, target: "payments@prod:/etc/p.yaml", wave: 1 }],
  impacts: [
    {
      commit: "abcdef0123456789",
      problem: null,
      targets: [
        {
          target: "payments@prod:/etc/p.yaml",
          wave: 1,
          delivered: T0 + 170,
          verdict: "regression",
          reason: "latency_ms regressed (critical)",
          metrics: [
            { metric: "latency_ms", verdict: "regression", reason: "higher after", p_value: 0.00012, effect: 29.6, interval: [28.1, 31.0], relative: 0.296, mde: 2.1, n_before: 30, n_after: 30 },
          ],
        },
      ],
    },
  ],
};

describe("the analytics model", () => {
  it("scales, ticks and draws paths broken at missing values", () => {
    const sx = linear([0, 10], [0, 100]);
    expect(sx(5)).toBe(50);
    expect(extent([3, null, 1], [7])).toEqual([1, 7]);
    expect(extent([2, 2])).toEqual([1.9, 2.1]);
    expect(extent([])).toEqual([0, 1]);
    expect(ticks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(98.3, 131.2, 4)).toEqual([100, 110, 120, 130]);
    const path = linePath([0, 1, 2, 3], [1, null, 2, 3], sx, (v) => v);
    expect(path).toBe("M0.0,1.0M20.0,2.0L30.0,3.0");
    expect(bandPath([0, 1], [1, 2], [3, 4], sx, (v) => v)).toBe("M0.0,3.0L10.0,4.0L10.0,2.0L0.0,1.0Z");
  });

  it("marks deliveries and change points, in words too", () => {
    expect(deliveryMarks(DOC.deliveries, SERIES)[0]).toMatchObject({ x: T0 + 170, label: "abcdef0" });
    expect(deliveryMarks(DOC.deliveries, { ...SERIES, times: null })).toEqual([]);
    const [mark] = changeMarks(SERIES);
    expect(mark?.label).toBe("+29.3%");
    expect(mark?.detail).toMatch(/100\.5 → 130 \(\+29\.3%, p < 0\.0001\)/);
    expect(formatP(0.0123)).toBe("0.0123");
    expect(formatChange(-0.05)).toBe("-5.0%");
    expect(verdictClass("regression")).toBe("bad");
    expect(verdictClass("inconclusive")).toBe("unsure");
  });

  it("turns the fragment's query into the API's", () => {
    const now = T0 * 1000;
    expect(queryOf(new URLSearchParams("period=1d&window=1h"), now)).toEqual({ from: String(T0 - 86400), window: "1h" });
    expect(queryOf(new URLSearchParams("from=2026-01-01T00:00:00Z&window=bogus"), now)).toEqual({ from: "2026-01-01T00:00:00Z" });
  });
});

function app(doc: AnalyticsDoc) {
  sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
  const { fetcher, calls } = fakeFetch({
    "/whoami": () => json(whoamiDoc()),
    "/services": () => json({ items: [{ name: "payments" }], next_cursor: null }),
    "/environments": () => json({ items: [{ name: "prod", abstract: false }], next_cursor: null }),
    "/analytics/payments/prod": () => json(doc),
  });
  render(<App fetcher={fetcher} />);
  return calls;
}

describe("the analytics page", () => {
  it("draws each metric with its marks, and gives the numbers as tables", async () => {
    window.location.hash = "#/analytics/payments/prod?period=2d";
    const calls = app(DOC);
    const chart = await screen.findByRole("img", { name: /latency_ms, latency_ms/ });
    expect(chart).toHaveAccessibleDescription(/6 points from 100 to 131, 1 change point, 1 delivery marked/);
    expect(chart.querySelectorAll(".delivery line")).toHaveLength(1);
    expect(chart.querySelectorAll(".shift line")).toHaveLength(1);
    const events = screen.getByRole("table", { name: "Change points and deliveries of latency_ms (latency_ms)" });
    expect(within(events).getAllByRole("row")).toHaveLength(3);
    const verdicts = screen.getByRole("table", { name: /The verdicts of abcdef0/ });
    expect(verdicts).toHaveTextContent("regression29.628.1 to 31+29.6%0.00012");
    expect(calls.filter((c) => c.url.includes("/analytics/payments/prod?from="))).toHaveLength(1);
  });

  it("says plainly that no analytics.yaml is configured", async () => {
    window.location.hash = "#/analytics/payments/prod";
    app({ ...DOC, configured: false, reason: "no analytics.yaml at the head of the branch", metrics: [], deliveries: [], impacts: [] });
    expect(await screen.findByRole("status")).toHaveTextContent("No metrics configured. no analytics.yaml at the head");
    expect(screen.queryByRole("img")).toBeNull();
  });
});
