from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgctl import InputError, Snapshot
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.render import lookup
from cfgctl.repo.yamlio import iter_leaves
from cfgctl.repo.yamlwrite import dump_plain
from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
  prod: {inherits: base}
  prod-eu: {inherits: prod}
services:
  app: {schema: any}
"""


def _snapshot(layers: dict[str, object]) -> Snapshot:
    files = {
        "cfgctl.yaml": FileRef.of_bytes("cfgctl.yaml", MANIFEST.encode()),
        "schemas/any.schema.json": FileRef.of_bytes("schemas/any.schema.json", b"{}"),
    }
    for path, data in layers.items():
        files[path] = FileRef.of_bytes(path, dump_plain(data).encode() if data is not None else b"")
    return Snapshot(Path("/nonexistent"), files)


def test_merge_order_and_provenance() -> None:
    snap = _snapshot(
        {
            "config/base/_defaults.yaml": {"db": {"host": "a", "port": 1}, "tags": ["x", "y"]},
            "config/base/app.yaml": {"db": {"host": "b"}},
            "config/prod/_defaults.yaml": {"tags": ["z"], "db": {"port": 2}},
            "config/prod-eu/app.yaml": {"db": {"host": "eu"}},
        }
    )
    rendered = snap.render("app", "prod-eu")
    assert rendered.data == {"db": {"host": "eu", "port": 2}, "tags": ["z"]}
    assert [layer.path for layer in rendered.layers] == [
        "config/base/_defaults.yaml",
        "config/base/app.yaml",
        "config/prod/_defaults.yaml",
        "config/prod-eu/app.yaml",
    ]
    prov = rendered.provenance(("db", "port"))
    assert (
        prov is not None
        and prov.layer.path == "config/prod/_defaults.yaml"
        and prov.layer.env == "prod"
    )
    assert (prov.line, prov.column) == (4, 9)  # tags: - z come first in that file
    tag = rendered.provenance(("tags", 0))
    assert tag is not None and tag.layer.path == "config/prod/_defaults.yaml"
    assert [s[0].env for s in rendered.setters(("db", "host"))] == ["base", "base", "prod-eu"]


def test_unknown_names_and_cycles() -> None:
    snap = _snapshot({})
    with pytest.raises(InputError, match="unknown environment 'stage'"):
        snap.render("app", "stage")
    with pytest.raises(InputError, match="unknown service 'ap'"):
        snap.render("ap", "prod")
    cyclic = MANIFEST.replace("base: {}", "base: {inherits: prod-eu}")
    files = dict(snap.files)
    files["cfgctl.yaml"] = FileRef.of_bytes("cfgctl.yaml", cyclic.encode())
    with pytest.raises(InputError, match=r"cycle: base -> prod-eu -> prod -> base") as info:
        Snapshot(Path("/x"), files).render("app", "prod")
    assert info.value.location is not None and info.value.location.line == 3


def test_snapshot_at_revision_reads_git_objects_without_checkout(tmp_path: Path) -> None:
    repo = ConfigRepo.init(tmp_path / "r")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/any.schema.json": "{}",
            "config/base/app.yaml": "v: 1\n",
        },
        "one",
    )
    repo.commit({"config/base/app.yaml": "v: 2\n"}, "two")
    repo.write({"config/base/app.yaml": "v: 3\n"})
    assert Snapshot.at(repo.workdir, "HEAD~1").render("app", "prod").data == {"v": 1}
    assert Snapshot.at(repo.workdir, "HEAD").render("app", "prod").data == {"v": 2}
    assert Snapshot.from_worktree(repo.workdir / "config").render("app", "prod").data == {"v": 3}


def test_config_repository_in_a_subfolder(tmp_path: Path) -> None:
    repo = ConfigRepo.init(tmp_path / "mono")
    repo.commit(
        {
            "ops/cfg/cfgctl.yaml": MANIFEST,
            "ops/cfg/schemas/any.schema.json": "{}",
            "ops/cfg/config/base/app.yaml": "v: 1\n",
        },
        "one",
    )
    snap = Snapshot.at(repo.workdir / "ops" / "cfg", "HEAD")
    assert snap.render("app", "base").data == {"v": 1}


_keys = st.sampled_from(["a", "b", "c", "db", "port"])
_leaf = st.integers(0, 9) | st.sampled_from(["x", "y"]) | st.lists(st.integers(0, 3), max_size=2)
_tree = st.recursive(_leaf, lambda inner: st.dictionaries(_keys, inner, max_size=3), max_leaves=8)
_layer = st.none() | st.dictionaries(_keys, _tree, max_size=3)
_PATHS = [
    "config/base/_defaults.yaml",
    "config/base/app.yaml",
    "config/prod/_defaults.yaml",
    "config/prod/app.yaml",
    "config/prod-eu/app.yaml",
]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_layer, min_size=len(_PATHS), max_size=len(_PATHS)))
def test_rendering_properties(layers: list[object]) -> None:
    files = dict(zip(_PATHS, layers, strict=True))
    rendered = _snapshot(files).render("app", "prod-eu")
    # deterministic
    assert _snapshot(files).render("app", "prod-eu").data == rendered.data
    # a layer that sets nothing changes nothing
    with_empty = dict(files)
    with_empty["config/prod-eu/_defaults.yaml"] = None
    assert _snapshot(with_empty).render("app", "prod-eu").data == rendered.data
    # provenance names a file that holds the value
    for path, value in iter_leaves(rendered.data):
        if not path:
            continue
        prov = rendered.provenance(path)
        assert prov is not None
        found, held = lookup(files[prov.layer.path], path)
        assert found and held == value
