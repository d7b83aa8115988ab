// What to compare: the service (or every one), environments side by side or one environment at
// two commits, and the "show every key" toggle. Each change is a new fragment (#/compare/...),
// so a comparison can be bookmarked, shared, and left with the back button.
import { useEffect, useState, type FormEvent } from "react";
import { modeOf, type CompareQuery } from "./model";

interface Props {
  query: CompareQuery;
  environments: string[];
  services: string[];
  onChange: (next: CompareQuery) => void;
}

export function Controls({ query, environments, services, onChange }: Props) {
  const mode = modeOf(query);
  const [revs, setRevs] = useState<[string, string]>(() => [query.revs[0] ?? "HEAD~1", query.revs[1] ?? "HEAD"]);
  useEffect(() => setRevs([query.revs[0] ?? "HEAD~1", query.revs[1] ?? "HEAD"]), [query.revs]);

  const setMode = (next: "environments" | "commits") => {
    if (next === mode) return;
    if (next === "commits") onChange({ ...query, envs: [query.envs.at(-1) ?? environments[0] ?? ""], revs });
    else onChange({ ...query, envs: pair(environments, query.envs[0]), revs: [] });
  };
  const toggleEnv = (env: string, on: boolean) => {
    const chosen = new Set(query.envs);
    if (on) chosen.add(env);
    else chosen.delete(env);
    onChange({ ...query, envs: environments.filter((e) => chosen.has(e)) });
  };
  const submitRevs = (event: FormEvent) => {
    event.preventDefault();
    onChange({ ...query, revs: [revs[0].trim(), revs[1].trim()] });
  };

  return (
    <div className="compare-controls">
      <div className="field">
        <label htmlFor="compare-service">Service</label>
        <select id="compare-service" value={query.service} onChange={(e) => onChange({ ...query, service: e.target.value })}>
          <option value="">Every service</option>
          {services.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <fieldset className="choices">
        <legend>Compare</legend>
        <label>
          <input type="radio" name="compare-mode" checked={mode === "environments"} onChange={() => setMode("environments")} />{" "}
          environments
        </label>
        <label>
          <input type="radio" name="compare-mode" checked={mode === "commits"} onChange={() => setMode("commits")} /> two
          commits
        </label>
      </fieldset>
      {mode === "environments" ? (
        <fieldset className="choices">
          <legend>Environments</legend>
          {environments.map((env) => (
            <label key={env}>
              <input type="checkbox" checked={query.envs.includes(env)} onChange={(e) => toggleEnv(env, e.target.checked)} />{" "}
              {env}
            </label>
          ))}
        </fieldset>
      ) : (
        <form className="revs" onSubmit={submitRevs} aria-label="Commits to compare">
          <div className="field">
            <label htmlFor="compare-env">Environment</label>
            <select id="compare-env" value={query.envs[0] ?? ""} onChange={(e) => onChange({ ...query, envs: [e.target.value] })}>
              {environments.map((env) => (
                <option key={env}>{env}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="compare-rev-a">From commit</label>
            <input id="compare-rev-a" value={revs[0]} onChange={(e) => setRevs([e.target.value, revs[1]])} />
          </div>
          <div className="field">
            <label htmlFor="compare-rev-b">To commit</label>
            <input id="compare-rev-b" value={revs[1]} onChange={(e) => setRevs([revs[0], e.target.value])} />
          </div>
          <button type="submit">Compare</button>
        </form>
      )}
      <div className="field check">
        <input
          id="compare-all"
          type="checkbox"
          checked={query.everything}
          onChange={(e) => onChange({ ...query, everything: e.target.checked })}
        />
        <label htmlFor="compare-all">Show every key</label>
      </div>
    </div>
  );
}

/** Two environments to start from: `first` (or staging) and the next one (prod when known). */
export function pair(environments: string[], first?: string): string[] {
  const a = first && environments.includes(first) ? first : environments.includes("staging") ? "staging" : environments[0];
  const rest = environments.filter((e) => e !== a);
  const b = rest.includes("prod") ? "prod" : rest[0];
  return [a, b].filter((e): e is string => Boolean(e));
}
