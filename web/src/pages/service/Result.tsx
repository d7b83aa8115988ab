// The change requests a save opened: their ids (links to the Change request page) and impact.
import { useEffect, useRef } from "react";
import type { ChangeRequest } from "../../api/types";
import { hrefOf } from "../../router";

export function Opened({ changes }: { changes: ChangeRequest[] }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    // (a block: some browsers answer scrollIntoView with a promise, no effect cleanup)
    ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [changes]);
  return (
    <section className="opened" role="status" aria-labelledby="opened-title" ref={ref}>
      <h2 id="opened-title">{changes.length === 1 ? "Change request opened" : "Change requests opened"}</h2>
      {changes.map((change) => (
        <article key={change.id}>
          <p>
            <a href={hrefOf("change", [String(change.id)])}>
              #{change.id} {change.title}
            </a>{" "}
            by {change.author}: {change.verdict?.description ?? change.state}
          </p>
          {change.plan && (
            <>
              <h3>Impact</h3>
              <ul aria-label={`Impact of change request ${change.id}`}>
                {change.plan.impact.map((pair) => (
                  <li key={`${pair.service}@${pair.env}`}>
                    <strong>
                      {pair.service}@{pair.env}
                    </strong>{" "}
                    {pair.status}: {pair.keys.join(", ")}
                  </li>
                ))}
              </ul>
              {change.plan.risk.length > 0 && <p>Protected environments touched: {change.plan.risk.join(", ")}.</p>}
            </>
          )}
        </article>
      ))}
    </section>
  );
}
