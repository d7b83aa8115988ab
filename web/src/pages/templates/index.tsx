// The Templates page (/#/templates): the catalogue of service templates with their typed
// parameters; /#/templates/NAME is the form that proposes a new service made from NAME, which
// the server opens as a change request (POST /api/v1/services), never a commit on the branch.
import { useEffect, useState } from "react";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import type { PageProps } from "../registry";
import { CreateForm } from "./CreateForm";
import { typeText, type Catalogue, type Environment, type Page, type TemplateRow } from "./model";
import "./templates.css";

async function loadCatalogue(
  get: <T>(path: string, query?: Record<string, string>, signal?: AbortSignal) => Promise<T>,
  signal: AbortSignal,
): Promise<Catalogue> {
  const limit = { limit: "1000" };
  const [templates, environments, services] = await Promise.all([
    get<Page<TemplateRow>>("/templates", limit, signal),
    get<Page<Environment>>("/environments", limit, signal),
    get<Page<{ name: string }>>("/services", limit, signal),
  ]);
  return { templates: templates.items, environments: environments.items, services: services.items.map((s) => s.name) };
}

export default function TemplatesPage({ route }: PageProps) {
  const { client } = useSession();
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const chosen = route.rest[0];

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    loadCatalogue((path, query, signal) => client.get(path, query, signal), abort.signal).then(setCatalogue, (e: unknown) => {
      if (!abort.signal.aborted) setError(e);
    });
    return () => abort.abort();
  }, [client, attempt]);

  const template = chosen ? catalogue?.templates.find((t) => t.name === chosen) : undefined;
  return (
    <main className="templates" aria-labelledby="templates-title">
      <h1 id="templates-title">{chosen ? `New service from ${chosen}` : "Templates"}</h1>
      {chosen && (
        <p>
          <a href={hrefOf("templates")}>← All templates</a>
        </p>
      )}
      {error ? <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {!catalogue && !error && <p aria-busy="true">Loading the templates…</p>}
      {catalogue && chosen && !template && (
        <div className="error" role="alert">
          <strong>No template {chosen}</strong>
          <p>The repository has no template of that name: choose one from the list.</p>
        </div>
      )}
      {catalogue && template && <CreateForm key={template.name} template={template} catalogue={catalogue} />}
      {catalogue && !chosen && <TemplateList templates={catalogue.templates} />}
    </main>
  );
}

function TemplateList({ templates }: { templates: TemplateRow[] }) {
  if (templates.length === 0) {
    return <p className="empty">This repository has no service templates (templates/NAME/template.yaml).</p>;
  }
  return (
    <ul className="template-list" aria-label="Service templates">
      {templates.map((t) => (
        <li key={t.name} className="template-card">
          <h2>{t.name}</h2>
          {t.problem ? (
            <p className="field-error">Cannot be read: {t.problem}</p>
          ) : (
            <>
              <p className="summary">
                Version {t.version}, schema <code>{t.schema}</code>
                {t.services && t.services.length > 0 ? `, ${t.services.length} service${t.services.length > 1 ? "s" : ""} made from it` : ""}
              </p>
              {t.description && <p>{t.description}</p>}
              <ParameterTable template={t} />
              <a className="action" href={hrefOf("templates", [t.name])}>
                Create a service from {t.name}
              </a>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function ParameterTable({ template }: { template: TemplateRow }) {
  const params = template.parameters ?? [];
  if (params.length === 0) return <p className="empty">No parameters: the service's name only.</p>;
  return (
    <div className="table-scroll" role="region" aria-label={`Parameters of ${template.name}`} tabIndex={0}>
      <table className="data">
        <caption className="sr-only">Parameters of {template.name}</caption>
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Default</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {params.map((p) => (
            <tr key={p.name}>
              <th scope="row">
                <code>{p.name}</code>
              </th>
              <td>{typeText(p)}</td>
              <td>{p.required ? "yes" : "no"}</td>
              <td>{p.default === undefined ? "—" : <code>{JSON.stringify(p.default)}</code>}</td>
              <td>{p.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
