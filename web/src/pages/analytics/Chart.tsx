// One metric's series as inline SVG, drawn here (no chart library): the line, the band of a
// thinned series' minimum and maximum, the deliveries as solid lines labelled with their commit,
// the change points as dashed lines. The picture is role="img" with a description in words;
// the numbers are in tables below it (ChangeTable) and, on request, every point (DataTable).
import { useId } from "react";
import {
  bandPath,
  changeMarks,
  deliveryMarks,
  describeSeries,
  extent,
  formatNumber,
  formatTime,
  linear,
  linePath,
  ticks,
  xsOf,
  type DeliveryDoc,
  type Mark,
  type MetricDoc,
  type SeriesDoc,
} from "./model";

const W = 800;
const H = 240;
const PAD = { left: 56, right: 12, top: 22, bottom: 28 };

export function Chart({ metric, series, deliveries }: { metric: MetricDoc; series: SeriesDoc; deliveries: DeliveryDoc[] }) {
  const id = useId();
  const xs = xsOf(series);
  const shown = deliveryMarks(deliveries, series);
  const shifts = changeMarks(series);
  const [x0, x1] = extent(xs, shown.map((m) => m.x));
  const [y0, y1] = extent(series.values, series.low, series.high);
  const sx = linear([x0, x1], [PAD.left, W - PAD.right]);
  const sy = linear([y0, y1], [H - PAD.bottom, PAD.top]);
  const yTicks = ticks(y0, y1, 4);
  const timed = series.times !== null;
  const xTicks = timed ? [x0, (x0 + x1) / 2, x1] : ticks(x0, x1, 4);
  const band = series.low && series.high ? bandPath(xs, series.low, series.high, sx, sy) : "";
  const description = describeSeries(metric, series, shown.length);
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t`} aria-describedby={`${id}-d`}>
      <title id={`${id}-t`}>{`${metric.name}, ${series.name}`}</title>
      <desc id={`${id}-d`}>{description}</desc>
      <g className="axis" aria-hidden="true">
        {yTicks.map((t) => (
          <g key={`y${t}`}>
            <line x1={PAD.left} x2={W - PAD.right} y1={sy(t)} y2={sy(t)} className="grid-line" />
            <text x={PAD.left - 6} y={sy(t) + 4} textAnchor="end">
              {formatNumber(t)}
            </text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text key={`x${t}`} x={sx(t)} y={H - 8} textAnchor={i === 0 ? "start" : i === xTicks.length - 1 ? "end" : "middle"}>
            {timed ? formatTime(t).slice(5) : `row ${Math.round(t)}`}
          </text>
        ))}
      </g>
      {band && <path d={band} className="band" aria-hidden="true" />}
      <path d={linePath(xs, series.values, sx, sy)} className="line" aria-hidden="true" />
      <Marks marks={shifts} className="shift" sx={sx} labelY={H - PAD.bottom - 4} />
      <Marks marks={shown} className="delivery" sx={sx} labelY={PAD.top - 6} />
    </svg>
  );
}

function Marks({ marks, className, sx, labelY }: { marks: Mark[]; className: string; sx: (v: number) => number; labelY: number }) {
  return (
    <g className={className} aria-hidden="true">
      {marks.map((m, i) => (
        <g key={`${m.x}-${i}`}>
          <title>{m.detail}</title>
          <line x1={sx(m.x)} x2={sx(m.x)} y1={PAD.top} y2={H - PAD.bottom} />
          <text x={sx(m.x) + 3} y={labelY}>
            {m.label}
          </text>
        </g>
      ))}
    </g>
  );
}
