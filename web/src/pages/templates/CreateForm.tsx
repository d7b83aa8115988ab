// The form that proposes a new service from a template: one field per typed parameter, the
// service's name, checked in the browser as the server checks them (the server has the last
// word: its 422 names the parameter, shown on that field); the button is disabled, with the
// reason, when the token may not edit every pair of the new service (/whoami).
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../../api/problem";
import { useSession } from "../../auth/session";
import { can } from "../../auth/permissions";
import { ErrorMessage } from "../../components/ErrorMessage";
import { buildRequest, checkServiceName, fieldsOf, pairsOf, type Catalogue, type Field, type TemplateRow } from "./model";

interface Opened {
  id: number;
  title: string;
  plan: { impact: { service: string; env: string; status: string; keys: string[] }[] } | null;
  verdict: { state: string; description: string } | null;
}

type Access = { state: "unknown"; reason: string } | { state: "allowed" } | { state: "refused"; reason: string };

function useAccess(service: string, catalogue: Catalogue): Access {
  const { client } = useSession();
  const [access, setAccess] = useState<Access>({ state: "unknown", reason: "enter the new service's name first" });
  const valid = checkServiceName(service, catalogue.services) === null;
  useEffect(() => {
    if (!valid) {
      setAccess({ state: "unknown", reason: "enter a valid name for the new service first" });
      return;
    }
    const abort = new AbortController();
    const pairs = pairsOf(service, catalogue.environments);
    const timer = window.setTimeout(() => {
      client.whoami(pairs, abort.signal).then(
        (who) => {
          const refused = pairs.map((pair) => can(who, "edit", pair)).find((v) => !v.allowed);
          setAccess(refused ? { state: "refused", reason: refused.reason } : { state: "allowed" });
        },
        (e: unknown) => {
          if (!abort.signal.aborted) setAccess({ state: "refused", reason: e instanceof Error ? e.message : String(e) });
        },
      );
    }, 250);
    return () => {
      abort.abort();
      window.clearTimeout(timer);
    };
  }, [client, service, valid, catalogue.environments]);
  return access;
}

export function CreateForm({ template, catalogue }: { template: TemplateRow; catalogue: Catalogue }) {
  const { client } = useSession();
  const fields = useMemo(() => fieldsOf(template), [template]);
  const [service, setService] = useState("");
  const [texts, setTexts] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.name, f.initial])));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [opened, setOpened] = useState<Opened | null>(null);
  const access = useAccess(service, catalogue);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    const built = buildRequest(template, fields, service, texts, catalogue.services);
    setErrors(built.errors);
    if (!built.request) {
      const first = Object.keys(built.errors)[0];
      document.getElementById(`param-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      setOpened(await client.request<Opened>("POST", "/services", {}, built.request));
    } catch (e) {
      const parameter = e instanceof ApiError ? e.problem?.parameter : undefined;
      if (typeof parameter === "string" && e instanceof ApiError) {
        setErrors({ [parameter]: e.readable });
        document.getElementById(`param-${parameter}`)?.focus();
      } else setFailure(e);
    } finally {
      setBusy(false);
    }
  }

  if (opened) return <OpenedView opened={opened} service={service} />;
  const disabled = busy || access.state !== "allowed";
  const why = access.state === "allowed" ? null : access.reason;
  return (
    <form className="create-form" onSubmit={submit} noValidate aria-describedby="create-intro">
      <p id="create-intro">
        {template.description} Creating the service opens a change request (schema <code>{template.schema}</code>,
        template version {template.version}); nothing changes until it is reviewed and merged.
      </p>
      {failure ? <ErrorMessage error={failure} /> : null}
      <TextField
        id="param-service"
        label="Service name"
        help="Lower-case letters, digits, '-' and '_': it becomes the file name of its layers."
        value={service}
        error={errors.service}
        required
        onChange={(text) => {
          setService(text);
          setErrors(({ service: _, ...rest }) => rest);
        }}
      />
      {fields.map((field) => (
        <ParamField
          key={field.name}
          field={field}
          value={texts[field.name] ?? ""}
          error={errors[field.name]}
          onChange={(text) => {
            setTexts((now) => ({ ...now, [field.name]: text }));
            setErrors(({ [field.name]: _, ...rest }) => rest);
          }}
        />
      ))}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={disabled} aria-describedby={why ? "create-why" : undefined}>
          {busy ? "Opening…" : "Open a change request"}
        </button>
        {why && (
          <p id="create-why" className="why">
            {access.state === "refused" ? `Not allowed: ${why}` : `To create it: ${why}.`}
          </p>
        )}
      </div>
    </form>
  );
}

function TextField(props: {
  id: string;
  label: string;
  help: string;
  value: string;
  error: string | undefined;
  required?: boolean | undefined;
  type?: string | undefined;
  inputMode?: "numeric" | "decimal" | undefined;
  onChange: (text: string) => void;
}) {
  const { id, label, help, value, error, required, type, inputMode, onChange } = props;
  return (
    <div className="field form-field">
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      <input
        id={id}
        type={type ?? "text"}
        inputMode={inputMode}
        value={value}
        required={required}
        aria-required={required}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-help${error ? ` ${id}-error` : ""}`}
        onChange={(e) => onChange(e.target.value)}
      />
      <small id={`${id}-help`} className="help">
        {help}
      </small>
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function ParamField({ field, value, error, onChange }: { field: Field; value: string; error: string | undefined; onChange: (t: string) => void }) {
  const id = `param-${field.name}`;
  const described = `${id}-help${error ? ` ${id}-error` : ""}`;
  const messages = (
    <>
      <small id={`${id}-help`} className="help">
        {field.help}
      </small>
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </>
  );
  if (field.kind === "boolean") {
    return (
      <div className="field form-field check">
        <input id={id} type="checkbox" checked={value === "true"} aria-describedby={described}
          onChange={(e) => onChange(e.target.checked ? "true" : "false")} />
        <label htmlFor={id}>{field.label}</label>
        {messages}
      </div>
    );
  }
  if (field.kind === "choice") {
    const options = (field.parameter.constraints.enum ?? []).map((e) => (typeof e === "string" ? e : JSON.stringify(e)));
    return (
      <div className="field form-field">
        <label htmlFor={id}>{field.label}{field.required ? <span aria-hidden="true"> *</span> : null}</label>
        <select id={id} value={value} aria-invalid={error ? true : undefined} aria-describedby={described} onChange={(e) => onChange(e.target.value)}>
          {!field.required && <option value="">(the default)</option>}
          {options.map((o) => (
            <option key={o} value={o}>{o}</option>
          ))}
        </select>
        {messages}
      </div>
    );
  }
  if (field.kind === "json") {
    return (
      <div className="field form-field">
        <label htmlFor={id}>{field.label} (JSON){field.required ? <span aria-hidden="true"> *</span> : null}</label>
        <textarea id={id} value={value} rows={3} aria-invalid={error ? true : undefined} aria-describedby={described}
          onChange={(e) => onChange(e.target.value)} />
        {messages}
      </div>
    );
  }
  const numeric = field.kind === "integer" || field.kind === "number";
  return (
    <TextField id={id} label={field.label} help={field.help} value={value} error={error} required={field.required}
      inputMode={numeric ? (field.kind === "integer" ? "numeric" : "decimal") : undefined} onChange={onChange} />
  );
}

function OpenedView({ opened, service }: { opened: Opened; service: string }) {
  return (
    <section className="opened" aria-labelledby="opened-title">
      <div role="status">
        <h2 id="opened-title">Change request #{opened.id} opened</h2>
      </div>
      <p>
        <strong>{opened.title}</strong>: {service} is added once the change request is approved and merged.
        {opened.verdict ? ` ${opened.verdict.description}.` : ""}
      </p>
      {opened.plan && opened.plan.impact.length > 0 && (
        <>
          <h3>Impact</h3>
          <ul>
            {opened.plan.impact.map((i) => (
              <li key={`${i.service}@${i.env}`}>
                {i.service}@{i.env}: {i.status}
                {i.keys.length ? ` (${i.keys.length} keys)` : ""}
              </li>
            ))}
          </ul>
        </>
      )}
      <p>
        <a href={`#/changes/${opened.id}`}>Open change request #{opened.id}</a>
      </p>
    </section>
  );
}
