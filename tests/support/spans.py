"""The span files cfgctl writes (cfgctl/_spanfile.py: JSON lines), read back for the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def spans_in(*folders: Path) -> list[dict[str, Any]]:
    """Every span of every `*.jsonl` file under `folders`."""
    return [
        json.loads(line)
        for folder in folders
        for path in sorted(folder.rglob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
