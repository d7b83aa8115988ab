"""Commands on a config repository: init, validate, render, get, set, explain, new, schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cfgctl.cli.output import (
    Format,
    TextOrJson,
    err,
    out,
    print_diagnostic,
    print_json,
    print_report,
)
from cfgctl.cli.progress import progress
from cfgctl.cli.state import STATE
from cfgctl.errors import CheckFailed, EnvError, InputError
from cfgctl.repo.formats import serialize
from cfgctl.repo.keypath import parse_key
from cfgctl.repo.snapshot import Rendered
from cfgctl.repo.yamlio import JsonPath
from cfgctl.repo.yamlwrite import dump_plain

__all__ = ["register"]

MASK = "***"

Rev = Annotated[
    str | None,
    typer.Option(
        "--rev", metavar="REV", help="Read the repository at this Git revision (no checkout)."
    ),
]
EnvOpt = Annotated[str, typer.Option("--env", "-e", metavar="ENV", help="The environment.")]
ServiceArg = Annotated[
    str, typer.Argument(metavar="SERVICE", help="The service, as named in cfgctl.yaml.")
]
KeyArg = Annotated[
    str,
    typer.Argument(metavar="KEY", help="A dotted key path: db.pool_size, hosts[0].name."),
]


class RenderFormat(StrEnum):
    yaml = "yaml"
    json = "json"
    env = "env"


def _masked(rendered: Rendered, reveal: bool) -> Any:
    if reveal or not (rendered.secret_paths or any(layer.secret for layer in rendered.layers)):
        return rendered.data

    def walk(value: Any, path: JsonPath) -> Any:
        if path and rendered.is_secret(path) and not isinstance(value, (dict, list)):
            return MASK
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    return walk(rendered.data, ())


def _scalar_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return dump_plain(value).rstrip("\n")
    return json.dumps(value) if not isinstance(value, str) else value


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        directory: Annotated[
            Path, typer.Argument(metavar="DIRECTORY", help="The new repository's folder.")
        ],
        template: Annotated[
            str,
            typer.Option(
                "--template", "-t", metavar="NAME", help="The example to start from (default)."
            ),
        ] = "default",
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    ) -> None:
        """Create a working example config repository in DIRECTORY and commit it with Git.

        It holds 4 environments (base, staging, prod inheriting base, prod-eu inheriting prod),
        2 services, their JSON Schemas and a service template. Try next:
        `cfgctl -C DIRECTORY validate`.
        """
        from cfgctl.editing.scaffold import init_repo

        files = init_repo(directory, template)
        if fmt is TextOrJson.json:
            print_json({"directory": str(directory), "template": template, "files": files})
            return
        out.print(f"created {directory} ({len(files)} files, committed on branch main)")
        out.print(f"next: cd {directory} && cfgctl validate && cfgctl render payments --env prod")

    @app.command()
    def validate(
        rev: Rev = None,
        fmt: Annotated[
            Format, typer.Option("--format", "-f", help="text, json, or github annotations.")
        ] = Format.text,
        schema: Annotated[
            Path | None,
            typer.Option(
                "--schema",
                "--schemafile",
                metavar="SCHEMA",
                help="Standalone mode: validate the DOCUMENTS (YAML or JSON) against this "
                "schema file, as check-jsonschema does.",
                dir_okay=False,
            ),
        ] = None,
        documents: Annotated[
            list[Path] | None,
            typer.Argument(metavar="DOC", help="YAML, JSON or TOML documents, with --schema."),
        ] = None,
        changed_since: Annotated[
            str | None,
            typer.Option(
                "--changed-since",
                metavar="REV",
                help="Validate only the service/environment pairs whose inputs changed since "
                "this revision (and the changed files); everything when a shared schema changed.",
            ),
        ] = None,
    ) -> None:
        """Validate the repository: cfgctl.yaml, every schema, every YAML file, and the effective
        configuration of every service in every environment against its schema.

        Each problem is printed as `path:line:col: error: message` on stderr, pointing at the
        layer that set the offending value (for a missing key: the file where it should go).
        Exit 0 when there is no error (warnings allowed), 1 otherwise.

        With --schema SCHEMA DOC..., validate any documents against one schema instead.
        """
        prefix = ""
        if schema is None and documents:
            raise InputError(
                "documents given without --schema",
                hint="cfgctl validate --schema SCHEMA.json DOC...; no argument validates the repo",
            )
        if schema is not None:
            from cfgctl.checks.standalone import validate_documents

            if not documents:
                raise InputError(
                    "--schema needs documents to validate", hint="--schema S.json a.yaml"
                )
            with progress("validating documents", fmt is not Format.text):
                report = validate_documents(schema, documents)
        else:
            from cfgctl.checks.validate import validate_snapshot
            from cfgctl.cli.checksuite import repository_checks

            snap = STATE.snapshot(rev)
            with progress("validating", fmt is not Format.text):
                if changed_since is not None:
                    from cfgctl.checks.validate import validate_changes

                    since = STATE.snapshot(changed_since)
                    report = validate_changes(snap, since, checks=repository_checks())
                else:
                    report = validate_snapshot(snap, checks=repository_checks())
            prefix = snap.git_prefix
        print_report(report, fmt, path_prefix=prefix)
        raise typer.Exit(0 if report.ok else 1)

    @app.command()
    def render(
        service: ServiceArg,
        env: EnvOpt,
        rev: Rev = None,
        fmt: Annotated[
            RenderFormat, typer.Option("--format", "-f", help="yaml, json, or env (KEY=value).")
        ] = RenderFormat.yaml,
        reveal: Annotated[
            bool, typer.Option("--reveal", help="Show secret values instead of ***.")
        ] = False,
        no_validate: Annotated[
            bool,
            typer.Option("--no-validate", help="Print even when the result breaks its schema."),
        ] = False,
    ) -> None:
        """Print the effective configuration of SERVICE in ENV: every layer of the inheritance
        chain merged (_defaults.yaml, SERVICE.yaml, SERVICE.secrets.yaml of each environment,
        root first). Secret values are shown as *** unless --reveal. Exit 2 when an input is
        broken, 1 (nothing printed on stdout) when the result breaks its schema."""
        from cfgctl.checks.validate import validate_pair

        snap = STATE.snapshot(rev)
        rendered = snap.render(service, env)
        if reveal and rendered.encrypted:
            raise EnvError(
                f"no key at hand decrypts {rendered.encrypted[0].path}",
                hint="set SOPS_AGE_KEY_FILE to an identity among its recipients "
                "(cfgctl secrets recipients list)",
            )
        if snap.is_abstract(env) and not no_validate:
            raise InputError(
                f"environment {env!r} is abstract: only inherited from, never used on its own",
                hint="render an environment that inherits it, or pass --no-validate to see it",
            )
        if not no_validate:
            verdict = validate_pair(snap, service, env, rendered)
            problems = [d for d in verdict if d.severity == "error"]
            if problems:
                for d in problems:
                    print_diagnostic(d)
                raise CheckFailed(
                    f"{service}@{env} fails validation; nothing rendered",
                    hint="fix the values above, or pass --no-validate to see the result anyway",
                )
        sys.stdout.write(serialize(_masked(rendered, reveal), fmt.value).decode())

    @app.command()
    def get(
        service: ServiceArg,
        key: KeyArg,
        env: EnvOpt,
        rev: Rev = None,
        reveal: Annotated[bool, typer.Option("--reveal", help="Show a secret value.")] = False,
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    ) -> None:
        """Print the effective value of KEY for SERVICE in ENV (a mapping or list as YAML)."""
        rendered = STATE.snapshot(rev).render(service, env)
        path = parse_key(key)
        value = rendered.get(path)
        if rendered.is_secret(path) and not reveal:
            value = MASK
        if fmt is TextOrJson.json:
            print_json(value)
        else:
            sys.stdout.write(_scalar_text(value) + "\n")

    @app.command(name="set")
    def set_(
        service: ServiceArg,
        key: KeyArg,
        value: Annotated[
            str,
            typer.Argument(metavar="VALUE", help="The value, read as YAML: 8080, true, [a, b]."),
        ],
        env: EnvOpt,
        string: Annotated[
            bool, typer.Option("--string", help="Store VALUE as text, even 8080 or true.")
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Check, but do not write.")
        ] = False,
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    ) -> None:
        """Set KEY to VALUE in config/ENV/SERVICE.yaml, keeping comments and key order.

        Refused (exit 1, file untouched) when the repository would then fail validation; the
        file is written atomically. Secret keys are refused: they belong in
        config/ENV/SERVICE.secrets.yaml, encrypted with SOPS.
        """
        from cfgctl.editing.values import parse_value, set_value

        snap = STATE.snapshot()
        try:
            result = set_value(
                snap,
                service,
                env,
                parse_key(key),
                parse_value(value, string=string),
                dry_run=dry_run,
            )
        except CheckFailed as exc:
            for d in getattr(exc, "diagnostics", []):
                print_diagnostic(d)
            raise
        if fmt is TextOrJson.json:
            print_json(
                {
                    "file": result.path,
                    "key": result.key,
                    "old": result.old,
                    "new": result.new,
                    "changed": result.changed,
                    "written": result.changed and not dry_run,
                }
            )
            return
        if not result.changed:
            out.print(f"{result.path}: {result.key} is already {_scalar_text(result.new)}")
        else:
            verb = "would set" if dry_run else "set"
            out.print(f"{result.path}: {verb} {result.key} = {_scalar_text(result.new)}")

    @app.command()
    def explain(
        service: ServiceArg,
        key: KeyArg,
        env: EnvOpt,
        rev: Rev = None,
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
        blame: Annotated[
            bool,
            typer.Option("--blame", help="Add the commit and author that last changed each line."),
        ] = False,
    ) -> None:
        """Show the effective value of KEY and every layer that sets it, in merge order, each with
        its file:line; the last one wins. JSON: a list of {env, file, line, value, wins} (with
        --blame also commit, author, date; null for a line not committed yet)."""
        snap = STATE.snapshot(rev)
        rendered = snap.render(service, env)
        path = parse_key(key)
        setters = rendered.setters(path)
        if not setters:
            rendered.get(path)  # raises with a hint when the key does not exist at all
            raise InputError(
                f"no layer sets {key} itself; it is built from the keys under it",
                hint=f"ask for a key under it, e.g. `cfgctl render {service} --env {env}`",
            )
        secret = rendered.is_secret(path)
        rows: list[dict[str, Any]] = [
            {
                "env": layer.env,
                "file": loc.path,
                "line": loc.line,
                "column": loc.column,
                "value": MASK if secret or layer.secret else value,
                "wins": i == len(setters) - 1,
            }
            for i, (layer, value, loc) in enumerate(setters)
        ]
        if blame:
            from cfgctl.changes.history import blame_layers

            blamed = blame_layers(snap, [(layer, loc.line or 1) for layer, _, loc in setters])
            for row, b in zip(rows, blamed, strict=True):
                row.update(b.to_dict())
        if fmt is TextOrJson.json:
            print_json(rows)
            return
        final = MASK if secret else rendered.get(path)
        out.print(f"{service}@{env} {key} = {_scalar_text(final)}")
        for row in rows:
            mark = "wins" if row["wins"] else "overridden"
            text = _scalar_text(row["value"]).replace("\n", " ")
            who = ""
            if blame:
                who = (
                    f"  {row['commit'][:12]} {row['author']} {row['date'][:10]}"
                    if row["commit"]
                    else "  (not committed yet)"
                )
            where = f"{row['file']}:{row['line']}:{row['column']}"
            out.print(f"  {where}: [{row['env']}] {text}  ({mark}){who}")

    new_app = typer.Typer(help="Create new things from templates.", no_args_is_help=True)
    app.add_typer(new_app, name="new")

    @new_app.command("service")
    def new_service(
        name: Annotated[str, typer.Argument(metavar="NAME", help="The new service's name.")],
        template: Annotated[
            str,
            typer.Option(
                "--template", "-t", metavar="T", help="A folder of templates/ in the repository."
            ),
        ],
        sets: Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                metavar="KEY=VALUE",
                help="A template parameter (repeatable); templates/T/template.yaml lists them.",
            ),
        ] = None,
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    ) -> None:
        """Create service NAME from templates/TEMPLATE/ and register it in cfgctl.yaml (comments
        kept). Parameters are declared and typed in templates/TEMPLATE/template.yaml; everything
        is validated before the first file is written."""
        from cfgctl.editing.scaffold import new_service as create
        from cfgctl.editing.scaffold import parse_assignments

        created = create(STATE.snapshot(), name, template, parse_assignments(sets or []))
        if fmt is TextOrJson.json:
            print_json({"service": created.name, "schema": created.schema, "files": created.files})
            return
        out.print(f"created service {created.name} (schema {created.schema}):")
        for path in created.files:
            out.print(f"  {path}")

    schema_app = typer.Typer(help="The JSON Schemas of the repository.", no_args_is_help=True)
    app.add_typer(schema_app, name="schema")

    @schema_app.command("list")
    def schema_list(
        rev: Rev = None,
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
    ) -> None:
        """List every schema of schemas/ with its versions and the services that use it."""
        snap = STATE.snapshot(rev)
        users: dict[str, list[str]] = {}
        for service in snap.manifest.services.values():
            try:
                ref = snap.schemas.resolve(service.schema)
            except InputError:
                continue
            users.setdefault(str(ref), []).append(service.name)
        rows: list[dict[str, Any]] = [
            {
                "name": name,
                "versions": sorted(versions),
                "latest": max(versions),
                "files": [versions[v].path for v in sorted(versions)],
                "services": {str(v): users.get(f"{name}@{v}", []) for v in sorted(versions)},
            }
            for name, versions in sorted(snap.schemas.versions.items())
        ]
        if fmt is TextOrJson.json:
            print_json(rows)
            return
        for row in rows:
            out.print(f"{row['name']}  versions {', '.join(map(str, row['versions']))}")
            for v, path in zip(row["versions"], row["files"], strict=True):
                used = ", ".join(row["services"][str(v)]) or "-"
                out.print(f"  @{v}  {path}  used by: {used}")

    @schema_app.command("show")
    def schema_show(
        spec: Annotated[
            str,
            typer.Argument(metavar="NAME[@N]", help="NAME for the newest version, NAME@N for one."),
        ],
        rev: Rev = None,
        builtin: Annotated[
            bool,
            typer.Option(
                "--builtin",
                help="A schema of cfgctl's own files instead: cfgctl (cfgctl.yaml), template.",
            ),
        ] = False,
    ) -> None:
        """Print a schema (as JSON) by name, the newest version unless NAME@N."""
        if builtin:
            from cfgctl.repo.builtin import SCHEMAS

            known = sorted(
                p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")
            )
            if spec not in known:
                raise InputError(f"no built-in schema {spec!r}", hint=f"known: {', '.join(known)}")
            sys.stdout.write((SCHEMAS / f"{spec}.schema.json").read_text())
            return
        snap = STATE.snapshot(rev)
        ref = snap.schemas.resolve(spec)
        sys.stdout.write(json.dumps(snap.schemas.document(ref.path), indent=2) + "\n")
        err.print(f"{ref}: {ref.path}")

    @schema_app.command("generate")
    def schema_generate(
        spec: Annotated[
            str,
            typer.Argument(
                metavar="MODULE:CLASS",
                help="The service's config model, a dataclass or pydantic BaseModel: "
                "payments.settings:Settings. MODULE is imported with the current folder on "
                "sys.path.",
            ),
        ],
        out_file: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                metavar="FILE",
                help="Write the schema to FILE (atomically) instead of stdout.",
                dir_okay=False,
            ),
        ] = None,
        title: Annotated[
            str | None,
            typer.Option("--title", metavar="T", help="The schema's title (default: CLASS)."),
        ] = None,
    ) -> None:
        """Write the JSON Schema (draft 2020-12) of the model a service loads its config into
        with cfgctl.sdk, so that the repository validates exactly what the code reads.

        Kept: defaults, descriptions (Field(description=...), model docstrings), constraints
        (Annotated[int, Field(ge=1, le=500)], annotated_types), Literal as enum, nested models
        as $defs. additionalProperties is false where the model forbids extra keys
        (extra="forbid"). Example:
        `cfgctl schema generate payments.settings:Settings -o schemas/payments.schema.json`
        """
        from cfgctl.repo.fsutil import atomic_write
        from cfgctl.sdk.schema import import_model, model_schema

        text = json.dumps(model_schema(import_model(spec), title=title), indent=2) + "\n"
        if out_file is None:
            sys.stdout.write(text)
            return
        atomic_write(out_file, text.encode())
        err.print(f"wrote {out_file}")
