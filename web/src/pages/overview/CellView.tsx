// One service x environment cell: valid or invalid (with the count), the pending change
// requests, and the commits the agents' targets run.
import { describeCell, plural, short, stateOf, type Cell } from "./model";

interface Props {
  service: string;
  cell: Cell;
  head: string;
  colIndex: number;
  dataCell: string;
  tabIndex: number;
  onFocus: () => void;
}

const MARK = { valid: "✓", warning: "!", invalid: "✕" } as const;

export function CellView({ service, cell, head, colIndex, dataCell, tabIndex, onFocus }: Props) {
  const state = stateOf(cell);
  const label = describeCell(service, cell, head);
  const stuck = cell.agents.reduce((n, a) => n + a.stuck, 0);
  return (
    <td
      className={`cell ${state}`}
      aria-colindex={colIndex}
      aria-label={label}
      title={label}
      data-cell={dataCell}
      tabIndex={tabIndex}
      onFocus={onFocus}
    >
      <span className="state" aria-hidden="true">
        <span className="mark">{MARK[state]}</span>
        {state === "invalid" ? plural(cell.errors, "error") : state === "warning" ? plural(cell.warnings, "warning") : "valid"}
      </span>
      {cell.changes.length > 0 && (
        <span className="badge changes" aria-hidden="true">
          {plural(cell.changes.length, "CR")}
        </span>
      )}
      {cell.agents.length > 0 && (
        <span className={`badge agents${stuck ? " stuck" : ""}`} aria-hidden="true">
          {cell.agents.map((a) => (a.commit === head ? "head" : short(a.commit))).join(" ")}
          {stuck ? ` · ${stuck} stuck` : ""}
        </span>
      )}
    </td>
  );
}
