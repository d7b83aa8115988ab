// The overview's filters: owner, environment, text, problems only.
import { useId } from "react";
import type { Filters } from "./model";

interface Props {
  filters: Filters;
  owners: string[];
  environments: string[];
  onChange: (filters: Filters) => void;
}

export function FilterBar({ filters, owners, environments, onChange }: Props) {
  const id = useId();
  return (
    <form className="filters" role="search" aria-label="Filter services" onSubmit={(e) => e.preventDefault()}>
      <div className="field">
        <label htmlFor={`${id}-text`}>Search services</label>
        <input
          id={`${id}-text`}
          type="search"
          placeholder="service or owner"
          value={filters.text}
          onChange={(e) => onChange({ ...filters, text: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-owner`}>Owner</label>
        <select id={`${id}-owner`} value={filters.owner} onChange={(e) => onChange({ ...filters, owner: e.target.value })}>
          <option value="">every owner</option>
          {owners.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-env`}>Environment</label>
        <select id={`${id}-env`} value={filters.env} onChange={(e) => onChange({ ...filters, env: e.target.value })}>
          <option value="">every environment</option>
          {environments.map((env) => (
            <option key={env} value={env}>
              {env}
            </option>
          ))}
        </select>
      </div>
      <div className="field check">
        <input
          id={`${id}-problems`}
          type="checkbox"
          checked={filters.problemsOnly}
          onChange={(e) => onChange({ ...filters, problemsOnly: e.target.checked })}
        />
        <label htmlFor={`${id}-problems`}>Problems only</label>
      </div>
    </form>
  );
}
