// The semantic diff of configurations: one table per service@env, a row per key that changes.
import type { KeyChange } from "../../api/types";
import { changeText } from "./model";

export interface DiffPair {
  service: string;
  env: string;
  status: string;
  changes: KeyChange[];
}

export function KeyTable({ changes, caption }: { changes: KeyChange[]; caption: string }) {
  return (
    <div className="diff-scroll">
      <table className="diff">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((change) => {
            const text = changeText(change);
            return (
              <tr key={change.path} className={`kind-${change.kind}`} aria-label={text.label}>
                <th scope="row">
                  <code>{change.path}</code>
                </th>
                <td className={change.kind === "added" ? undefined : "old"}>
                  <code>{text.old}</code>
                </td>
                <td className={change.kind === "removed" ? undefined : "new"}>
                  <code>{text.new}</code>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function DiffTables({ pairs }: { pairs: DiffPair[] }) {
  if (pairs.length === 0) return <p className="empty">No effective configuration changes.</p>;
  return (
    <>
      {pairs.map((pair) => (
        <KeyTable
          key={`${pair.service}@${pair.env}`}
          changes={pair.changes}
          caption={`${pair.service}@${pair.env} (${pair.status}, ${pair.changes.length} key${pair.changes.length === 1 ? "" : "s"})`}
        />
      ))}
    </>
  );
}
