// The numbers behind the Analytics page's pictures, as tables a screen reader (or anyone) reads:
// each series' change points and deliveries, every point on request, and each delivery's verdicts.
import { useState, type ReactNode } from "react";
import {
  formatChange,
  formatInterval,
  formatNumber,
  formatP,
  formatTime,
  short,
  verdictClass,
  xsOf,
  type DeliveryDoc,
  type ImpactDoc,
  type SeriesDoc,
} from "./model";

export function EventTable({ series, deliveries, label }: { series: SeriesDoc; deliveries: DeliveryDoc[]; label: string }) {
  const rows = [
    ...series.changepoints.map((cp) => ({
      at: cp.time ?? cp.index,
      what: "change point",
      text: `${formatNumber(cp.before)} → ${formatNumber(cp.after)} (${formatChange(cp.change)}), p ${formatP(cp.p_value)}`,
    })),
    ...(series.times ? deliveries : []).map((d) => ({
      at: d.time,
      what: "delivery",
      text: `${short(d.commit)} to ${d.target} (wave ${d.wave})`,
    })),
  ].sort((a, b) => a.at - b.at);
  if (rows.length === 0) return <p className="empty">No change point and no delivery in the period.</p>;
  return (
    <Scroll label={label}>
      <table className="data">
        <caption className="sr-only">{label}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>{series.times ? formatTime(r.at) : `row ${r.at}`}</td>
              <th scope="row">{r.what}</th>
              <td>{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}

/** A table that may scroll sideways (or down): a region the keyboard can reach and scroll. */
export function Scroll({ label, tall, children }: { label: string; tall?: boolean; children: ReactNode }) {
  return (
    <div className={tall ? "table-scroll tall" : "table-scroll"} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export function DataTable({ series, label }: { series: SeriesDoc; label: string }) {
  const [open, setOpen] = useState(false);
  const xs = xsOf(series);
  const thinned = series.low !== null;
  return (
    <details className="points" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        Every point as a table ({series.values.length}
        {thinned ? ` bucket means of ${series.points} points` : " points"})
      </summary>
      {open && (
      <Scroll label={label} tall>
        <table className="data">
          <caption className="sr-only">{label}</caption>
          <thead>
            <tr>
              <th scope="col">{series.times ? "Time (UTC)" : "Row"}</th>
              <th scope="col">{thinned ? "Mean" : "Value"}</th>
              {thinned && <th scope="col">Min</th>}
              {thinned && <th scope="col">Max</th>}
            </tr>
          </thead>
          <tbody>
            {series.values.map((v, i) => (
              <tr key={i}>
                <td>{series.times ? formatTime(xs[i] ?? 0) : i}</td>
                <td>{formatNumber(v)}</td>
                {thinned && <td>{formatNumber(series.low?.[i])}</td>}
                {thinned && <td>{formatNumber(series.high?.[i])}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      )}
    </details>
  );
}

export function ImpactTable({ impact }: { impact: ImpactDoc }) {
  if (impact.problem) return <p className="field-error">Not judged: {impact.problem}</p>;
  return (
    <>
      {impact.targets.map((t) => (
        <div key={t.target} className="target">
          <p>
            <span className={`verdict ${verdictClass(t.verdict)}`}>{t.verdict}</span> <code>{t.target}</code>, wave {t.wave},
            delivered {formatTime(t.delivered)}
            {t.reason ? `: ${t.reason}` : ""}
          </p>
          <Scroll label={`The verdicts of ${short(impact.commit)} on ${t.target}`}>
            <table className="data">
              <caption className="sr-only">
                The verdicts of {short(impact.commit)} on {t.target}, metric by metric
              </caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">Verdict</th>
                  <th scope="col">Effect</th>
                  <th scope="col">98% interval</th>
                  <th scope="col">Relative</th>
                  <th scope="col">p-value</th>
                  <th scope="col">MDE</th>
                  <th scope="col">Points before / after</th>
                </tr>
              </thead>
              <tbody>
                {t.metrics.map((m) => (
                  <tr key={m.metric}>
                    <th scope="row">{m.metric}</th>
                    <td>
                      <span className={`verdict ${verdictClass(m.verdict)}`} title={m.reason}>
                        {m.verdict}
                      </span>
                    </td>
                    <td>{formatNumber(m.effect)}</td>
                    <td>{formatInterval(m.interval)}</td>
                    <td>{formatChange(m.relative)}</td>
                    <td>{formatP(m.p_value)}</td>
                    <td>{formatNumber(m.mde)}</td>
                    <td>
                      {m.n_before} / {m.n_after}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </div>
      ))}
    </>
  );
}
