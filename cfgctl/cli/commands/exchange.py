"""`cfgctl export|import`: configuration in the formats teams already have (`cfgctl.operate`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import EnvOpt, Rev, ServiceArg
from cfgctl.cli.output import out, print_diagnostic
from cfgctl.cli.state import STATE
from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import InputError

if TYPE_CHECKING:
    from cfgctl.operate.imports import ImportPlan

__all__ = ["app", "export", "import_"]

app = typer.Typer(rich_markup_mode=None)


class ExchangeFormat(StrEnum):
    """cfgctl.operate.formats_out.FORMATS (a test holds them equal)."""

    yaml = "yaml"
    json = "json"
    toml = "toml"
    env = "env"
    properties = "properties"
    spring = "spring"
    configmap = "configmap"
    secret = "secret"
    helm_values = "helm-values"
    consul_kv = "consul-kv"


PrefixOpt = Annotated[
    str | None,
    typer.Option(
        "--prefix",
        metavar="PREFIX",
        help="env, spring: a variable prefix (APP -> APP_DB_HOST); consul-kv: the key folder "
        "(export: config/SERVICE,ENV; import: the config/NAME/ all keys share).",
    ),
]

ExportFormatOpt = Annotated[
    ExchangeFormat, typer.Option("--format", "-f", help="The format to write.", show_default=True)
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", metavar="FILE", help="Write FILE (atomically), not stdout."),
]
RevealOpt = Annotated[bool, typer.Option("--reveal", help="Write secret values.")]
SkipSecretsOpt = Annotated[
    bool, typer.Option("--skip-secrets", help="Leave secrets out (listed on stderr).")
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Refuse when the format cannot hold a value.")
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="With --reveal --out: write to a disk, not only to memory.")
]


@app.command()
def export(
    service: ServiceArg,
    env: EnvOpt,
    fmt: ExportFormatOpt = ExchangeFormat.yaml,
    out_file: OutOpt = None,
    prefix: PrefixOpt = None,
    reveal: RevealOpt = False,
    skip_secrets: SkipSecretsOpt = False,
    strict: StrictOpt = False,
    force: ForceOpt = False,
    rev: Rev = None,
) -> None:
    """Write the effective configuration of SERVICE in ENV as yaml, json, toml, env, properties,
    spring, configmap, secret, helm-values or consul-kv.

    Nested keys are flattened the way each format expects: db.pool_size and hosts[0] in
    properties; DB_POOL_SIZE in env (lists as JSON; --prefix APP gives APP_DB_POOL_SIZE);
    Spring Boot's relaxed binding in spring (DB_POOLSIZE, HOSTS_0); a Kubernetes ConfigMap or
    Secret (base64 data:) with dotted keys; consul kv import's JSON (base64 values under
    config/SERVICE,ENV/). Each is read back unchanged by its standard reader (python-dotenv,
    jproperties, kubectl, consul) and by cfgctl import.

    Before writing, what the format cannot hold is listed on stderr (types turned to strings,
    nulls, lists written as text, empty mappings); --strict refuses it (exit 1). A configuration
    holding secrets is refused (exit 2) without --reveal (or --skip-secrets, which leaves them
    out); with --reveal, --out writes mode 0600 and only to a memory-backed folder (/dev/shm)
    unless --force. Exit 1 when the configuration breaks its schema.

    Example: cfgctl export payments --env prod --format properties --out app-prod.properties
    """
    from cfgctl.operate.export import export_service, refuse_losses, write_out

    try:
        exported = export_service(
            STATE.snapshot(rev),
            service,
            env,
            fmt.value,
            prefix=prefix,
            reveal=reveal,
            skip_secrets=skip_secrets,
        )
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise
    for line in exported.report(fmt.value):
        sys.stderr.write(f"export: {line}\n")
    if strict:
        refuse_losses(exported, fmt.value, f"{service}@{env}")
    if out_file is None:
        sys.stdout.write(exported.data.decode())
        return
    write_out(exported, out_file, force=force)
    sys.stderr.write(f"export: wrote {out_file}\n")


InferOpt = Annotated[
    bool,
    typer.Option(
        "--infer-layers",
        help="FILE=ENV per environment: common values into their common ancestor's layer.",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Check and show the edits, but write nothing.")
]


@app.command("import")
def import_(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE... | FILE=ENV...", help="The file (or FILE=ENV pairs)."),
    ],
    service: Annotated[
        str, typer.Option("--service", "-s", metavar="SERVICE", help="The service.")
    ],
    env: Annotated[
        str | None, typer.Option("--env", "-e", metavar="ENV", help="The environment.")
    ] = None,
    fmt: Annotated[
        ExchangeFormat | None,
        typer.Option("--format", "-f", help="The file's format (default: from its name)."),
    ] = None,
    prefix: PrefixOpt = None,
    infer_layers: InferOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Read FILE (yaml, json, toml, env, properties, spring, configmap, secret, helm-values,
    consul-kv; from its name unless --format) into SERVICE's layer of ENV.

    Strings get the types the service's schema declares. Only the keys whose value differs
    from what ENV inherits are written into config/ENV/SERVICE.yaml (comments kept); keys the
    file does not name stay. Secrets (marked by the schema, or looking like credentials) go
    encrypted into SERVICE.secrets.yaml. With --infer-layers, each FILE=ENV is one
    environment: the values all files share go into the layer of their nearest common
    ancestor, each environment gets only its differences.

    Nothing is written when the file does not parse or a value does not convert (exit 2, with
    file:line), or when the result fails validation for ENV or an environment inheriting it
    (exit 1). Everything is written or nothing, under the repository lock.

    Example: cfgctl import application-prod.properties --service payments --env prod

    Example: cfgctl import --infer-layers app-staging.env=staging app-prod.env=prod -s payments
    """
    from cfgctl.operate.imports import import_files

    pairs = _pairs(files, env, infer_layers)
    try:
        plan = import_files(
            STATE.snapshot(),
            service,
            pairs,
            fmt=fmt.value if fmt else None,
            prefix=prefix,
            infer=infer_layers,
            dry_run=dry_run,
        )
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise
    _print(plan, dry_run)


def _pairs(files: list[str], env: str | None, infer: bool) -> list[tuple[Path, str]]:
    if not infer:
        if env is None or len(files) != 1:
            raise InputError(
                "import one FILE with --env ENV, or FILE=ENV pairs with --infer-layers",
                hint="cfgctl import app.properties --service S --env prod",
            )
        return [(Path(files[0]), env)]
    if env is not None:
        raise InputError(
            "--infer-layers takes FILE=ENV pairs, not --env",
            hint="cfgctl import --infer-layers a-staging.env=staging a-prod.env=prod --service S",
        )
    pairs = []
    for item in files:
        path, eq, name = item.rpartition("=")
        if not eq or not path or not name:
            raise InputError(
                f"{item!r} is not FILE=ENV", hint="name the environment of each file: app.env=prod"
            )
        pairs.append((Path(path), name))
    return pairs


def _print(plan: ImportPlan, dry_run: bool) -> None:
    verb = "would write" if dry_run else "wrote"
    for name, fmt, env in plan.sources:
        out.print(f"{name} ({fmt}) -> {plan.service}@{env}")
    for rel, key, change in plan.edits:
        out.print(f"  {rel}: {'set' if change == 'set' else 'unset'} {key}")
    if plan.unchanged:
        out.print(
            f"  {len(plan.unchanged)} key(s) equal to what the environment inherits: not written"
        )
    if plan.skipped:
        out.print(f"  skipped (not under the prefix): {', '.join(plan.skipped[:8])}")
    out.print(f"{verb} {len(plan.writes)} file(s)" if plan.writes else "nothing to write")
