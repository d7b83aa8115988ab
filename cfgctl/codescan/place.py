"""Where the model module goes and the name code imports it by.

    model_location([Path("app/db.py")], None)
    # (Path("app/cfgctl_settings.py"), "app.cfgctl_settings")

By default the model sits in the top package of the first rewritten file (the highest folder of
its chain of `__init__.py`), so every module of that package imports it by an absolute name; a
file outside any package gets it beside itself (`import cfgctl_settings`).
"""

from __future__ import annotations

from pathlib import Path

from cfgctl.errors import InputError

__all__ = ["MODEL_FILE", "model_location", "module_name"]

MODEL_FILE = "cfgctl_settings.py"


def _top_package(folder: Path) -> Path | None:
    top = None
    while (folder / "__init__.py").is_file():
        top = folder
        if folder.parent == folder:
            break
        folder = folder.parent
    return top


def module_name(path: Path) -> str:
    """The dotted name `path` is imported by, from the folder above its top package."""
    path = path.resolve()
    top = _top_package(path.parent)
    if top is None:
        return path.stem
    parts = [*path.parent.relative_to(top.parent).parts, path.stem]
    if not all(p.isidentifier() for p in parts):
        raise InputError(
            f"{path} cannot be imported by name ({'.'.join(parts)})",
            hint="name the model file with --model, inside an importable package",
        )
    return ".".join(parts)


def model_location(files: list[Path], model: Path | None) -> tuple[Path, str]:
    if model is not None:
        if model.suffix != ".py":
            raise InputError(
                f"--model {model}: not a .py file", hint="e.g. --model app/settings.py"
            )
        return model, module_name(model)
    first = files[0].resolve()
    top = _top_package(first.parent)
    folder = top if top is not None else first.parent
    path = folder / MODEL_FILE
    return path, module_name(path)
