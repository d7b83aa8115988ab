// The Service page (/#/service/SERVICE/ENV): the effective configuration of SERVICE in ENV as a
// form generated from its JSON Schema, each field marked with where its value comes from; a
// save (or a reset to inherited) opens a change request, shown with its impact.
import Form from "@rjsf/core";
import type { ErrorSchema } from "@rjsf/utils";
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../../api/problem";
import type { ChangeRequest, Diagnostic } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import type { PageProps } from "../registry";
import { ButtonTemplates } from "./Buttons";
import { FieldTemplate, ProvenanceContext, WrapIfAdditionalTemplate, type Provenance } from "./FieldTemplate";
import { loadService, type Loaded } from "./load";
import { MASK, clone, maskedSecret, resetPatch, saveOf, secretPointersOf, serverErrors, uiSchemaOf } from "./model";
import type { Path } from "./pointers";
import { Opened } from "./Result";
import { CfworkerValidator, errorSchemaOf } from "./validator";
import "./service.css";

const templates = { FieldTemplate, WrapIfAdditionalTemplate, ButtonTemplates };

export default function ServicePage({ route }: PageProps) {
  const [service = "", env = ""] = route.rest;
  if (!service || !env) {
    return (
      <main aria-labelledby="service-title">
        <h1 id="service-title">Service</h1>
        <p>
          Open a service in an environment from the <a href={hrefOf("overview")}>overview</a>, or go to
          #/service/SERVICE/ENV.
        </p>
      </main>
    );
  }
  return <ServiceForm key={`${service}@${env}`} service={service} env={env} />;
}

function ServiceForm({ service, env }: { service: string; env: string }) {
  const { client } = useSession();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [formData, setFormData] = useState<unknown>(null);
  const [extraErrors, setExtraErrors] = useState<ErrorSchema | undefined>(undefined);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [opened, setOpened] = useState<ChangeRequest[]>([]);
  const [busy, setBusy] = useState(false);
  const [title, setTitle] = useState("");

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    loadService(client, service, env, abort.signal).then(
      (next) => {
        setLoaded(next);
        setFormData(clone(next.doc.config));
        setExtraErrors(next.doc.errors ? errorSchemaOf(serverErrors(next.doc.errors, service, env)) : undefined);
        setOpened([]);
        setSaveError(null);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e);
      },
    );
    return () => abort.abort();
  }, [client, service, env, attempt]);

  const secrets = useMemo(() => (loaded ? secretPointersOf(loaded.schema, loaded.doc.provenance ?? []) : new Set<string>()), [loaded]);
  const uiSchema = useMemo(() => uiSchemaOf(secrets), [secrets]);
  const formValidator = useMemo(() => new CfworkerValidator(maskedSecret(secrets)), [secrets]);

  const failed = useCallback(
    (e: unknown) => {
      setSaveError(e);
      const errors = e instanceof ApiError && e.kind === "check-failed" ? (e.problem?.errors as Diagnostic[] | undefined) : undefined;
      setExtraErrors(errors ? errorSchemaOf(serverErrors(errors, service, env)) : undefined);
    },
    [service, env],
  );

  const send = useCallback(
    async (patch: Record<string, unknown> | null, secretChanges: { key: string; value: unknown }[]) => {
      if (!loaded) return;
      setBusy(true);
      setSaveError(null);
      setExtraErrors(undefined);
      try {
        const changes: ChangeRequest[] = [];
        if (patch) changes.push(await client.patchConfig(service, env, patch, loaded.etag, title.trim() || undefined));
        for (const s of secretChanges) changes.push(await client.putSecret(service, env, s.key, s.value));
        setOpened(changes);
      } catch (e) {
        failed(e);
      } finally {
        setBusy(false);
      }
    },
    [client, service, env, loaded, failed, title],
  );

  const provenance: Provenance | null = useMemo(
    () =>
      loaded && {
        env,
        entries: loaded.doc.provenance ?? [],
        canEdit: loaded.edit.allowed,
        why: loaded.edit.reason,
        busy,
        onReset: (path: Path) => void send(resetPatch(path), []),
      },
    [loaded, env, busy, send],
  );

  const save = loaded ? saveOf(loaded.doc.config, formData, secrets) : { patch: null, secrets: [] };
  const dirty = save.patch !== null || save.secrets.length > 0;
  const stale = saveError instanceof ApiError && saveError.status === 412;

  return (
    <main className="service-page" aria-labelledby="service-title">
      <h1 id="service-title">
        {service} <span className="env">in {env}</span>
      </h1>
      {error ? <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {!loaded && !error && <p aria-busy="true">Loading the configuration…</p>}
      {loaded && provenance && (
        <>
          <p className="summary">
            The effective configuration, by schema <code>{loaded.schemaName}</code>. Each field says where its value
            comes from; a save opens a change request, reviewed before it merges. Secrets stay masked ({MASK}) and are
            sent only when changed.
          </p>
          {loaded.doc.errors && loaded.doc.errors.length > 0 && (
            <p className="notice invalid" role="alert">
              This configuration fails its schema at the branch head ({loaded.doc.errors.length}{" "}
              {loaded.doc.errors.length === 1 ? "error" : "errors"}, shown on the fields): nothing is served to it until a
              fix merges. Correct the values and propose the change.
            </p>
          )}
          {!loaded.edit.allowed && (
            <p className="notice" id="edit-refused">
              Read only: {loaded.edit.reason}.
            </p>
          )}
          {stale ? (
            <div className="error" role="alert">
              <strong>The configuration changed since you read it</strong>
              <p>Someone changed {service} in {env} meanwhile: reload it, check your edit still makes sense, and save again.</p>
              <button type="button" onClick={() => setAttempt((n) => n + 1)}>
                Reload
              </button>
            </div>
          ) : saveError ? (
            <ErrorMessage error={saveError} />
          ) : null}
          {opened.length > 0 && <Opened changes={opened} />}
          <ProvenanceContext value={provenance}>
            <Form
              schema={loaded.schema}
              uiSchema={uiSchema}
              formData={formData}
              validator={formValidator}
              templates={templates}
              {...(extraErrors ? { extraErrors } : {})}
              liveValidate="onChange"
              showErrorList="top"
              noHtml5Validate
              focusOnFirstError
              disabled={!loaded.edit.allowed || busy}
              onChange={(event) => {
                setFormData(event.formData);
                // the server's errors stand until an edit; the browser's validation then takes over
                if (extraErrors) setExtraErrors(undefined);
              }}
              onSubmit={() => void send(save.patch, save.secrets)}
            >
              <p className="title-field">
                <label htmlFor="change-title">Title of the change request (optional)</label>
                <input
                  id="change-title"
                  type="text"
                  maxLength={200}
                  value={title}
                  disabled={!loaded.edit.allowed || busy}
                  placeholder={`${service}@${env}: the keys it changes`}
                  onChange={(event) => setTitle(event.target.value)}
                />
              </p>
              <div className="actions">
                <button
                  type="submit"
                  disabled={!loaded.edit.allowed || busy || !dirty}
                  aria-describedby={loaded.edit.allowed ? undefined : "edit-refused"}
                >
                  {busy ? "Opening a change request…" : "Propose the change"}
                </button>
                <button type="button" disabled={busy || !dirty} onClick={() => setFormData(clone(loaded.doc.config))}>
                  Undo my edits
                </button>
              </div>
            </Form>
          </ProvenanceContext>
        </>
      )}
    </main>
  );
}
