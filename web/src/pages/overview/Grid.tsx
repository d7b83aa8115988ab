// The services x environments table, virtualised (only the rows in view are in the DOM), with
// one tab stop and the arrow keys, Home/End, PageUp/PageDown to move between cells (the ARIA
// grid pattern).
import { defaultRangeExtractor, useVirtualizer, type Range } from "@tanstack/react-virtual";
import { Fragment, useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { CellView } from "./CellView";
import type { Row } from "./model";

const ROW_HEIGHT = 48;
const HEADER_HEIGHT = 40; // the sticky header row (styles.css): rows start below it
const PAGE_ROWS = 10;

interface Props {
  rows: Row[];
  columns: number[];
  environments: string[];
  head: string;
  label: string;
}

interface Position {
  row: number;
  col: number; // 0: the service; 1..: the environments shown
}

export function Grid({ rows, columns, environments, head, label }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState<Position>({ row: 0, col: 0 });
  const [focusing, setFocusing] = useState(false);
  const row = Math.min(active.row, Math.max(rows.length - 1, 0));
  // The active row stays rendered when scrolled away: the focus never falls out of the grid.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      if (rows.length && !indexes.includes(row)) indexes.push(row);
      return indexes.sort((a, b) => a - b);
    },
    [row, rows.length],
  );
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    initialRect: { width: 1024, height: 640 },
    paddingStart: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
    rangeExtractor,
  });

  const lastCol = columns.length;
  const col = Math.min(active.col, lastCol);

  useEffect(() => {
    if (!focusing) return;
    const cell = scroller.current?.querySelector<HTMLElement>(`[data-cell="${row}:${col}"]`);
    if (cell) {
      cell.focus({ preventScroll: true });
      setFocusing(false);
    }
  });

  function move(next: Position) {
    const target = {
      row: Math.max(0, Math.min(rows.length - 1, next.row)),
      col: Math.max(0, Math.min(lastCol, next.col)),
    };
    setActive(target);
    setFocusing(true);
    virtualizer.scrollToIndex(target.row, { align: "auto" });
  }

  function onKeyDown(event: KeyboardEvent) {
    const moves: Record<string, Position> = {
      ArrowDown: { row: row + 1, col },
      ArrowUp: { row: row - 1, col },
      ArrowRight: { row, col: col + 1 },
      ArrowLeft: { row, col: col - 1 },
      PageDown: { row: row + PAGE_ROWS, col },
      PageUp: { row: row - PAGE_ROWS, col },
      Home: event.ctrlKey ? { row: 0, col: 0 } : { row, col: 0 },
      End: event.ctrlKey ? { row: rows.length - 1, col: lastCol } : { row, col: lastCol },
    };
    const next = moves[event.key];
    if (next && rows.length) {
      event.preventDefault();
      move(next);
    }
  }

  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  const after = last ? virtualizer.getTotalSize() - last.end : 0;
  const width = columns.length + 1;
  const spacer = (height: number, key: string) =>
    height > 0 ? (
      <tr aria-hidden="true" className="spacer" key={key}>
        <td colSpan={width} style={{ height }} />
      </tr>
    ) : null;

  return (
    <div className="grid-scroll" ref={scroller}>
      <table role="grid" aria-label={label} aria-rowcount={rows.length + 1} aria-colcount={width} onKeyDown={onKeyDown}>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" aria-colindex={1}>
              Service
            </th>
            {columns.map((i, n) => (
              <th scope="col" key={environments[i]} aria-colindex={n + 2}>
                {environments[i]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {items.map((item, k) => {
            const r = rows[item.index];
            if (!r) return null;
            const gap = item.start - (k > 0 ? (items[k - 1]?.end ?? 0) : HEADER_HEIGHT);
            return (
              <Fragment key={r.service}>
                {spacer(gap, `gap-${item.index}`)}
                <tr
                  data-index={item.index}
                  ref={virtualizer.measureElement}
                  aria-rowindex={item.index + 2}
                  className={r.problems ? "has-problem" : undefined}
                >
                  <th
                    scope="row"
                    aria-colindex={1}
                    data-cell={`${item.index}:0`}
                    tabIndex={item.index === row && col === 0 ? 0 : -1}
                    onFocus={() => setActive({ row: item.index, col: 0 })}
                  >
                    <span className="service">{r.service}</span>
                    <span className="owners">{r.owners.join(", ")}</span>
                  </th>
                  {columns.map((i, n) => {
                    const cell = r.cells[i];
                    if (!cell) return null;
                    return (
                      <CellView
                        key={cell.env}
                        service={r.service}
                        cell={cell}
                        head={head}
                        colIndex={n + 2}
                        dataCell={`${item.index}:${n + 1}`}
                        tabIndex={item.index === row && col === n + 1 ? 0 : -1}
                        onFocus={() => setActive({ row: item.index, col: n + 1 })}
                      />
                    );
                  })}
                </tr>
              </Fragment>
            );
          })}
          {spacer(after, "after")}
        </tbody>
      </table>
    </div>
  );
}
