"""Secret values hidden for display: every value a secret key or an encrypted layer holds.

masked(rendered, reveal=False)  # the effective configuration with *** for each secret
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cfgctl.errors import EnvError

if TYPE_CHECKING:
    from cfgctl.repo.render import Rendered
    from cfgctl.repo.yamlio import JsonPath

__all__ = ["MASK", "masked", "masked_value", "no_key_error"]

MASK = "***"


def masked(rendered: Rendered, reveal: bool = False) -> Any:
    """The rendered data with every secret leaf replaced by MASK (unless `reveal`)."""
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


def masked_value(rendered: Rendered, path: JsonPath, reveal: bool = False) -> Any:
    """The effective value at `path`, MASK when it is a secret (unless `reveal`). With `reveal`,
    EnvError when the value comes from a layer no key at hand decrypts: its ciphertext is no
    value to show."""
    value = rendered.get(path)
    if reveal and rendered.encrypted:
        from cfgctl.repo.yamlio import iter_leaves

        locked = {layer.path for layer in rendered.encrypted}
        for leaf, _ in iter_leaves(value, tuple(path)):
            found = rendered.source(leaf)
            if found is not None and found[0].path in locked:
                raise no_key_error(found[0].path)
    return MASK if rendered.is_secret(path) and not reveal else value


def no_key_error(layer_path: str) -> EnvError:
    """What to say when a value to reveal comes from a layer no key at hand decrypts."""
    return EnvError(
        f"no key at hand decrypts {layer_path}",
        hint="set SOPS_AGE_KEY_FILE to an identity among its recipients "
        "(cfgctl secrets recipients list)",
    )
