"""`cfgctl secrets ...`: keys, recipients, encryption, editing, checks and the Git merge driver."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgctl.cli.options import CheckFormatOpt, EnvOpt, Format, FormatOpt, TextOrJson
from cfgctl.cli.output import err, out
from cfgctl.cli.reporters import REPORTER_BY_NAME, emit
from cfgctl.cli.state import STATE
from cfgctl.errors import InputError

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
secrets = typer.Typer(
    help="Secrets encrypted with SOPS (age keys): keys, recipients, values, checks, merges.",
    no_args_is_help=True,
)
app.add_typer(secrets, name="secrets")
recipients = typer.Typer(help="The age recipients of each environment (.sops.yaml).")
secrets.add_typer(recipients, name="recipients")

FileArg = Annotated[
    Path,
    typer.Argument(metavar="FILE", help="A config/ENV/SERVICE.secrets.yaml file.", dir_okay=False),
]
RecipientArg = Annotated[str, typer.Argument(metavar="RECIPIENT", help="An age public key.")]


def _rel(file: Path) -> tuple[Path, str]:
    """The repository root and FILE relative to it."""
    from cfgctl.repo.snapshot import find_root

    root = find_root(STATE.start())
    full = (Path.cwd() / file).resolve() if not file.is_absolute() else file.resolve()
    if not full.is_relative_to(root):
        raise InputError(f"{file} is outside the config repository {root}")
    return root, full.relative_to(root).as_posix()


@secrets.command()
def keygen(
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Where to write the identity (default: $SOPS_AGE_KEY_FILE, else "
            "~/.config/sops/age/keys.txt). Never overwritten.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Create an age identity (private key) with mode 0600 and print its public recipient,
    the value to give to `cfgctl secrets recipients add`."""
    from cfgctl.repo.decrypt import default_key_file
    from cfgctl.secrets.keys import keygen as make

    target = out_file or default_key_file()
    recipient = make(target)
    err.print(f"wrote a new age identity to {target} (mode 0600); keep it out of Git")
    sys.stdout.write(recipient + "\n")


def _change(env: str, add: list[str] | None, remove: list[str] | None) -> None:
    from cfgctl.repo.snapshot import find_root
    from cfgctl.secrets.operations import change_recipients

    STATE.snapshot().manifest.env(env)
    files = change_recipients(find_root(STATE.start()), env, add=add, remove=remove)
    if files is None:
        out.print(f".sops.yaml: the recipients of {env} are already those; nothing changed")
        return
    out.print(f".sops.yaml: recipients of {env} updated")
    for rel in files:
        out.print(f"  re-keyed {rel}")


@recipients.command("add")
def recipients_add(recipient: RecipientArg, env: EnvOpt) -> None:
    """Add RECIPIENT to the rule of ENV in .sops.yaml (comments kept) and re-key every
    config/ENV/*.secrets.yaml (needs a key that opens them). All or nothing."""
    _change(env, [recipient], None)


@recipients.command("remove")
def recipients_remove(recipient: RecipientArg, env: EnvOpt) -> None:
    """Remove RECIPIENT from ENV and re-key its files. Rotate the values too (`cfgctl secrets
    rotate` changes the data key; the old recipient may have copied the values)."""
    _change(env, None, [recipient])


@recipients.command("list")
def recipients_list(fmt: FormatOpt = TextOrJson.text) -> None:
    """The age recipients of every environment, from .sops.yaml."""
    from cfgctl.secrets.rules import SopsConfig

    snap = STATE.snapshot()
    config = SopsConfig.load(snap.root)
    rows = {env: config.recipients(env) for env in snap.manifest.environments}

    def text() -> None:
        for env, keys in rows.items():
            out.print(f"{env}: {', '.join(keys) if keys else '(none)'}")

    emit(fmt.value, rows, text)


AnyFileArg = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="A file sops reads (YAML, JSON, dotenv, INI, binary), in a config repository or not.",
        dir_okay=False,
    ),
]
AgeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--age",
        metavar="RECIPIENT",
        help="Encrypt for this age recipient (repeatable) instead of the .sops.yaml rule.",
    ),
]


def _repo_secret_file(file: Path) -> tuple[Path, str] | None:
    """(root, rel) when FILE is a config/ENV/SERVICE.secrets.yaml of a config repository."""
    from cfgctl.errors import CfgctlError
    from cfgctl.repo.snapshot import find_root
    from cfgctl.secrets.operations import secret_files

    full = file.resolve()
    try:
        root = find_root(full.parent)
    except CfgctlError:
        return None
    rel = full.relative_to(root).as_posix()
    return (root, rel) if rel in secret_files(root) else None


@secrets.command()
def encrypt(file: AnyFileArg, age: AgeOpt = None) -> None:
    """Encrypt FILE in place with sops. A config/ENV/SERVICE.secrets.yaml: for its environment's
    recipients. Any other file, anywhere: for --age RECIPIENT, else for the creation rule sops
    finds in the nearest .sops.yaml (this folder or one above). Only the ciphertext is written,
    atomically. Exit 2: no rule, already encrypted, not readable."""
    from cfgctl.secrets.anyfile import encrypt_any
    from cfgctl.secrets.operations import encrypt_file

    in_repo = None if age else _repo_secret_file(file)
    if in_repo is not None:
        encrypt_file(*in_repo)
        out.print(f"encrypted {in_repo[1]}")
        return
    encrypt_any(file, age or [])
    out.print(f"encrypted {file}")


@secrets.command()
def decrypt(file: AnyFileArg) -> None:
    """Print the decrypted FILE on stdout (never to a file), byte for byte what `sops -d FILE`
    prints; any sops file, in a config repository or not. Exit 3: no key at hand opens it
    (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, SOPS_AGE_KEY_CMD, ~/.config/sops/age/keys.txt, ssh keys);
    exit 2: tampered with (the MAC or a value does not authenticate), or not encrypted."""
    from cfgctl.repo import sops
    from cfgctl.secrets.anyfile import readable

    readable(file)
    sys.stdout.buffer.write(sops.decrypt_path(str(file), Path.cwd()))
    sys.stdout.flush()


@secrets.command()
def edit(file: FileArg) -> None:
    """Edit FILE decrypted with $EDITOR, in a private 0700 folder in memory (/dev/shm) removed
    afterwards (even on an error, SIGHUP, SIGTERM or ^C). An invalid result opens the editor
    again with the error at the top; save it unchanged or empty to give up (exit 1). The
    result is validated before it is encrypted again. No change: untouched."""
    from cfgctl.secrets.editor import edit_secret_file

    _, rel = _rel(file)
    changed = edit_secret_file(STATE.snapshot(), rel)
    out.print(f"{'re-encrypted' if changed else 'unchanged'}: {rel}")


def _read_value(prompt: str, as_json: bool) -> object:
    """The secret from a hidden prompt or stdin, never from the command line."""
    if sys.stdin.isatty():
        raw = getpass.getpass(prompt)
    else:
        raw = sys.stdin.read()
        raw = raw[:-1] if raw.endswith("\n") else raw
    if not as_json:
        return raw
    try:
        value: object = json.loads(raw)
    except ValueError as exc:
        raise InputError("the value is not valid JSON", hint="drop --json for text") from exc
    return value


@secrets.command("set")
def set_(
    service: Annotated[str, typer.Argument(metavar="SERVICE", help="The service.")],
    key: Annotated[str, typer.Argument(metavar="KEY", help="A dotted key: db.password.")],
    env: EnvOpt,
    json_value: Annotated[
        bool, typer.Option("--json", help="Read the value as JSON (a number, a list...).")
    ] = False,
) -> None:
    """Set KEY of config/ENV/SERVICE.secrets.yaml (created when missing), reading the value
    from stdin or a hidden prompt, never from the command line (other users see it)."""
    from cfgctl.repo.keypath import parse_key
    from cfgctl.secrets.operations import set_secret

    path = parse_key(key)
    value = _read_value(f"value of {key} for {service}@{env}: ", json_value)
    rel = set_secret(STATE.snapshot(), service, env, path, value)
    out.print(f"{rel}: set {key} (encrypted)")


@secrets.command()
def rotate(
    env: Annotated[
        str | None,
        typer.Option("--env", "-e", metavar="ENV", help="Only this environment."),
    ] = None,
) -> None:
    """New data keys for the .secrets.yaml files (of ENV): every value re-encrypted."""
    from cfgctl.secrets.operations import rotate_files

    snap = STATE.snapshot()
    if env is not None:
        snap.manifest.env(env)
    for rel in rotate_files(snap.root, env):
        out.print(f"rotated {rel}")


@secrets.command()
def check(
    fmt: CheckFormatOpt = Format.text,
) -> None:
    """Check every .secrets.yaml (encrypted, valid MAC, the recipients of its environment's
    rule) and every plain file (no secret key, nothing that looks like a credential).
    Exit 1 on findings. `cfgctl validate` runs the same checks."""
    from cfgctl.checks.secretscheck import secrets_report
    from cfgctl.checks.validate import validate_snapshot  # it runs the secrets checks
    from cfgctl.server.checksuite import repository_checks

    snap = STATE.snapshot()
    report = secrets_report(validate_snapshot(snap, checks=repository_checks()))
    REPORTER_BY_NAME[fmt.value]().validation(report, path_prefix=snap.git_prefix)
    raise typer.Exit(0 if report.ok else 1)


@secrets.command("merge-driver", hidden=False)
def merge_driver(
    base: Annotated[Path, typer.Argument(metavar="BASE", help="%O: the common ancestor.")],
    ours: Annotated[Path, typer.Argument(metavar="OURS", help="%A: ours; the result.")],
    theirs: Annotated[Path, typer.Argument(metavar="THEIRS", help="%B: theirs.")],
    path: Annotated[str, typer.Argument(metavar="PATH", help="%P: the file's path.")],
) -> None:
    """The Git merge driver for *.secrets.yaml (installed by install-merge-driver): merges
    the decrypted trees key by key and re-encrypts; a key changed differently on both sides
    is a conflict, named by its path, never by its value (exit 1, ours left as it was)."""
    from cfgctl.repo.snapshot import find_root
    from cfgctl.secrets.operations import merge_secret_files

    root = find_root(Path.cwd() / Path(path).parent)
    rel = (Path.cwd() / path).resolve().relative_to(root).as_posix()
    result = merge_secret_files(root, base, ours, theirs, rel)
    if result.conflicts:
        err.print(f"cfgctl: merge conflict in {path}, at: {', '.join(result.conflicts)}")
        err.print(
            "  hint: take one side (git checkout --ours or --theirs), then cfgctl secrets edit"
        )
        raise typer.Exit(1)


@secrets.command("install-merge-driver")
def install_merge_driver() -> None:
    """Register the merge driver for *.secrets.yaml in .gitattributes and in the Git config of
    this repository, so that branches changing different secrets of one file merge cleanly."""
    from cfgctl.repo.snapshot import find_root
    from cfgctl.secrets.mergedriver import install_merge_driver as install

    attributes = install(find_root(STATE.start()))
    out.print(f"merge driver cfgctl-sops installed ({attributes.name}, .git/config)")
