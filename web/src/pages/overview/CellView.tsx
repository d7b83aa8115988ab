// One service x environment cell: valid or invalid (with the count), the pending change
// requests, and the commits the agents' targets run. Its accessible name is its visible text
// after "SERVICE in ENV:"; the title says it all in words.
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

const MARK = { valid: "✓", warning: "!", invalid: "✕", hidden: "–" } as const;
const WORDS = { hidden: "not shown", valid: "valid" } as const;

export function CellView({ service, cell, head, colIndex, dataCell, tabIndex, onFocus }: Props) {
  const state = stateOf(cell);
  const stuck = cell.agents.reduce((n, a) => n + a.stuck, 0);
  const runs = cell.agents.map((a) => (a.commit === head ? "head" : short(a.commit))).join(" ");
  return (
    <td
      className={`cell ${state}`}
      aria-colindex={colIndex}
      title={describeCell(service, cell, head)}
      data-cell={dataCell}
      tabIndex={tabIndex}
      onFocus={onFocus}
    >
      <span className="sr-only">{`${service} in ${cell.env}: `}</span>
      <span className="state">
        <span className="mark" aria-hidden="true">
          {MARK[state]}
        </span>
        {state === "invalid"
          ? plural(cell.errors, "error")
          : state === "warning"
            ? plural(cell.warnings, "warning")
            : WORDS[state]}
      </span>{" "}
      {cell.changes.length > 0 && <span className="badge changes">{plural(cell.changes.length, "change")}</span>}{" "}
      {cell.agents.length > 0 && (
        <span className={`badge agents${stuck ? " stuck" : ""}`}>
          runs {runs}
          {stuck ? `, ${stuck} stuck` : ""}
        </span>
      )}
    </td>
  );
}
