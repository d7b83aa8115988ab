"""`.sops.yaml`: one creation rule per environment, naming the age recipients of its secrets.

rules = SopsConfig.load(root)
rules.recipients("prod")              # ["age1...", ...]
rules.add("prod", "age1...")          # comments of .sops.yaml kept
rules.save()
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from cfgctl.errors import InputError, Location
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.yamlwrite import dump_roundtrip, load_roundtrip

__all__ = ["SOPS_CONFIG", "SopsConfig", "check_recipient", "env_regex"]

SOPS_CONFIG = ".sops.yaml"
_AGE = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")


def env_regex(env: str) -> str:
    """The path_regex of an environment's rule: its .secrets.yaml files."""
    return rf"^config/{re.escape(env)}/[^/]+\.secrets\.yaml$"


def check_recipient(recipient: str) -> str:
    """An age recipient (public key), checked by pyrage; `InputError` otherwise."""
    import pyrage

    text = recipient.strip().lower()  # bech32 allows upper case; sops reads lower case only
    try:
        pyrage.x25519.Recipient.from_str(text)
    except Exception as exc:
        raise InputError(
            f"not an age recipient: {text[:12]}…",
            hint="a recipient is the public key `cfgctl secrets keygen` prints (age1…)",
        ) from exc
    return text


class SopsConfig:
    """The creation rules of .sops.yaml, round-trip loaded (comments and order kept)."""

    def __init__(self, root: Path, data: Any) -> None:
        self.root = root
        self.path = root / SOPS_CONFIG
        self.data = data

    @classmethod
    def load(cls, root: Path) -> SopsConfig:
        path = root / SOPS_CONFIG
        if not path.exists():
            data = CommentedMap()
            data["creation_rules"] = CommentedSeq()
            return cls(root, data)
        data = load_roundtrip(path.read_bytes(), SOPS_CONFIG)
        if data is None:
            data = CommentedMap()
        rules = (
            data.setdefault("creation_rules", CommentedSeq()) if isinstance(data, dict) else None
        )
        if not isinstance(rules, list):
            raise InputError(
                ".sops.yaml must hold a mapping with a creation_rules list",
                location=Location(SOPS_CONFIG, 1, 1),
                hint="see https://getsops.io/docs/#using-sops-yaml-conf-to-select-kms-pgp-and-age-for-new-files",
            )
        return cls(root, data)

    @property
    def rules(self) -> list[Any]:
        rules: list[Any] = self.data["creation_rules"]
        return rules

    def rule_for(self, rel: str) -> Any:
        """The first rule whose path_regex matches `rel`, as sops picks it; None if none."""
        for rule in self.rules:
            regex = rule.get("path_regex") if isinstance(rule, dict) else None
            if isinstance(regex, str):
                try:
                    if re.search(regex, rel):
                        return rule
                except re.error:
                    continue
        return None

    def _env_rule(self, env: str, create: bool) -> Any:
        regex = env_regex(env)
        for rule in self.rules:
            if isinstance(rule, dict) and rule.get("path_regex") == regex:
                return rule
        if not create:
            return None
        rule = CommentedMap()
        rule["path_regex"] = regex
        rule["age"] = ""
        # An environment's rule goes before any catch-all rule, since sops takes the first match.
        self.rules.insert(0, rule)
        return rule

    def recipients(self, env: str) -> list[str]:
        rule = self.rule_for(f"config/{env}/x.secrets.yaml")
        if rule is None:
            return []
        age = rule.get("age", "")
        items = age if isinstance(age, list) else str(age).split(",")
        return [a.strip() for a in items if str(a).strip()]

    def set_recipients(self, env: str, recipients: list[str]) -> None:
        rule = self._env_rule(env, create=True)
        rule["age"] = ",".join(recipients)

    def save(self) -> None:
        like = self.path.read_text() if self.path.exists() else ""
        atomic_write(self.path, dump_roundtrip(self.data, like=like).encode())
