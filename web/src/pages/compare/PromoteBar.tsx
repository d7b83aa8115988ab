// "Make prod like staging for these keys": the selected keys, the two environments, and the
// button that opens the promotion change request (POST /promotions). Disabled, with the reason,
// until keys are selected and the token may read the source and edit the target (whoami).
import { useEffect, useState, type FormEvent } from "react";
import type { PromotionAnswer } from "../../api/types";
import { can } from "../../auth/permissions";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import { objectsOf, parseSelection, promotionOf } from "./model";

interface Props {
  environments: string[]; // the sides, in order
  selected: Set<string>;
  commit: string; // the commit compared: a promotion of a comparison gone stale is refused (412)
  onOpened: () => void;
}

export function PromoteBar({ environments, selected, commit, onOpened }: Props) {
  const { client } = useSession();
  const [from, setFrom] = useState(environments[0] ?? "");
  const [to, setTo] = useState(environments.at(-1) ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [opened, setOpened] = useState<PromotionAnswer | null>(null);

  useEffect(() => {
    setFrom((now) => (environments.includes(now) ? now : (environments[0] ?? "")));
    setTo((now) => (environments.includes(now) ? now : (environments.at(-1) ?? "")));
  }, [environments]);

  const count = selected.size;
  const refusal = useRefusal(selected, from, to);

  const why =
    count === 0
      ? "Select the keys to promote (the checkboxes of the rows that differ)."
      : from === to
        ? "Choose two different environments."
        : refusal;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (why) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await client.promote(promotionOf(selected, from, to, commit));
      setOpened(answer);
      onOpened();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="promote" onSubmit={submit} aria-label="Promote">
      <div className="promote-line">
        <label htmlFor="promote-to">Make</label>
        <select id="promote-to" value={to} onChange={(e) => setTo(e.target.value)}>
          {environments.map((env) => (
            <option key={env}>{env}</option>
          ))}
        </select>
        <label htmlFor="promote-from">like</label>
        <select id="promote-from" value={from} onChange={(e) => setFrom(e.target.value)}>
          {environments.map((env) => (
            <option key={env}>{env}</option>
          ))}
        </select>
        <span>
          for {count} selected key{count === 1 ? "" : "s"}
        </span>
        <button type="submit" disabled={Boolean(why) || busy} aria-describedby={why ? "promote-why" : undefined} title={why ?? undefined}>
          {busy ? "Opening…" : "Open a promotion change request"}
        </button>
      </div>
      {why && (
        <p id="promote-why" className="why">
          {why}
        </p>
      )}
      {error ? <ErrorMessage error={error} /> : null}
      {opened && (
        <div className="opened" role="status">
          Change request <a href={hrefOf("change", [String(opened.id)])}>#{opened.id}</a> opened: {opened.title}.
          {opened.promotion.skipped.length > 0 && (
            <ul>
              {opened.promotion.skipped.map((s) => (
                <li key={`${s.service} ${s.key}`}>
                  {s.service} {s.key} not promoted: {s.detail}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}

/** Why the token may not promote `selected` from `from` to `to` (read the source, edit the
 * target: whoami, asked again when they change), null when it may. */
function useRefusal(selected: Set<string>, from: string, to: string): string | null {
  const { client } = useSession();
  const [refusal, setRefusal] = useState<string | null>("Checking what you may do…");
  useEffect(() => {
    if (selected.size === 0 || from === to) return;
    const abort = new AbortController();
    setRefusal("Checking what you may do…");
    client.whoami(objectsOf(selected, from, to).slice(0, 100), abort.signal).then(
      (who) => {
        const services = [...new Set([...selected].map((id) => parseSelection(id).service))];
        const checks = services.flatMap((s) => [can(who, "read", `${s}@${from}`), can(who, "edit", `${s}@${to}`)]);
        const refused = checks.find((v) => !v.allowed);
        setRefusal(refused ? `Not allowed: ${refused.reason}.` : null);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setRefusal(e instanceof Error ? e.message : String(e));
      },
    );
    return () => abort.abort();
  }, [client, selected, from, to]);
  return refusal;
}
