// One service's keys side by side: a row per key, a column per side, each value with the layer
// and file:line it comes from; cells that differ from the first side highlighted (and said so in
// words); a checkbox per key that a promotion can move.
import { formatValue, layerOf, mismatches, selectable, selectionId, shownRows, statusText, whereOf } from "./model";
import type { CompareRow, CompareService, CompareSide } from "../../api/types";

interface Props {
  item: CompareService;
  sides: CompareSide[];
  labels: string[];
  everything: boolean;
  selected: Set<string>;
  canSelect: boolean; // a promotion is possible here (environments side by side)
  onSelect: (ids: string[], on: boolean) => void;
}

export function ServiceTable({ item, sides, labels, everything, selected, canSelect, onSelect }: Props) {
  const rows = shownRows(item, everything);
  const choosable = canSelect ? rows.filter(selectable).map((row) => selectionId(item.name, row.key)) : [];
  const allOn = choosable.length > 0 && choosable.every((id) => selected.has(id));
  const headingId = `compare-${item.name}`;
  const broken = item.errors.map((e, i) => (e ? `${labels[i]}: ${e}` : null)).filter(Boolean);

  return (
    <section className="compare-service" aria-labelledby={headingId}>
      <h2 id={headingId}>{item.name}</h2>
      <p className="summary">
        {broken.length
          ? "Cannot be compared."
          : item.differences === 0
            ? `The same in every side (${item.keys} keys).`
            : `${item.differences} of ${item.keys} keys differ.`}
      </p>
      {broken.length > 0 && (
        <ul className="problems">
          {broken.map((text) => (
            <li key={text} className="bad">
              {text}
            </li>
          ))}
        </ul>
      )}
      {rows.length > 0 && (
        <div className="compare-scroll" role="region" aria-label={`${item.name}: ${labels.join(", ")}`} tabIndex={0}>
          <table className="compare-table">
            <thead>
              <tr>
                <th scope="col" className="pick">
                  {choosable.length > 0 ? (
                    <input
                      type="checkbox"
                      aria-label={`Select every difference of ${item.name}`}
                      checked={allOn}
                      onChange={(e) => onSelect(choosable, e.target.checked)}
                    />
                  ) : (
                    <span className="sr-only">Select</span>
                  )}
                </th>
                <th scope="col">Key</th>
                {labels.map((label) => (
                  <th scope="col" key={label}>
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <RowView
                  key={row.key}
                  service={item.name}
                  row={row}
                  sides={sides}
                  labels={labels}
                  checkbox={canSelect && selectable(row)}
                  checked={selected.has(selectionId(item.name, row.key))}
                  onSelect={onSelect}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface RowProps {
  service: string;
  row: CompareRow;
  sides: CompareSide[];
  labels: string[];
  checkbox: boolean;
  checked: boolean;
  onSelect: (ids: string[], on: boolean) => void;
}

/** One key: its checkbox, its name and status in words, and each side's value and origin. */
function RowView({ service, row, sides, labels, checkbox, checked, onSelect }: RowProps) {
  const id = selectionId(service, row.key);
  return (
    <tr className={`status-${row.status}`}>
      <td className="pick">
        {checkbox && (
          <input type="checkbox" aria-label={`Select ${service} ${row.key}`} checked={checked} onChange={(e) => onSelect([id], e.target.checked)} />
        )}
      </td>
      <th scope="row">
        <code>{row.key}</code>
        <span className="row-status">{statusText(row)}</span>
      </th>
      {row.cells.map((cell, i) => {
        const off = mismatches(row, i);
        const where = whereOf(cell);
        return (
          <td key={i} className={off ? "mismatch" : undefined}>
            <span className={cell.present ? "value" : "value absent"}>{formatValue(cell)}</span>
            {row.secret && cell.present && <span className="badge">secret</span>}
            {off && <span className="sr-only"> (differs from {labels[0]})</span>}
            {where && (
              <span className="where">
                <code>{where}</code> {layerOf(cell, sides[i]?.env ?? "")}
              </span>
            )}
          </td>
        );
      })}
    </tr>
  );
}
