from __future__ import annotations

import dataclasses

from cfgctl.codescan.findings import MASK, Finding


def _finding(**kw: object) -> Finding:
    base: dict[str, object] = dict(
        path="app/db.py",
        line=12,
        col=17,
        end_line=12,
        end_col=19,
        key="db.pool_size",
        type="integer",
        value=10,
        kind="config",
        score=0.9,
        reasons=("name pool_size",),
    )
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_id_is_stable_when_lines_move_and_changes_with_the_value() -> None:
    a = _finding()
    assert a.id == _finding(line=40, col=3, end_line=40, end_col=5, score=0.1).id
    assert a.id.startswith("CS") and len(a.id) == 10
    assert a.id != _finding(value=11).id
    assert a.id != dataclasses.replace(a, occurrence=2).id
    assert a.id != _finding(path="app/other.py").id


def test_a_secret_is_masked_in_its_dict() -> None:
    secret = _finding(key="db.password", type="string", value="hunter2-but-longer", kind="secret")
    out = secret.to_dict()
    assert out["value"] == MASK
    assert "hunter2-but-longer" not in repr(out)
    assert _finding().to_dict()["value"] == 10
    assert str(_finding().location) == "app/db.py:12:17"
