"""The audit log: one JSON object a line (`state_dir/audit.jsonl`) for every apply, rollback and
refusal: time, target, from and to commit, outcome. Never a configuration value."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["AuditLog"]


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(
        self, action: str, target: str, old: str | None, new: str | None, outcome: str, **extra: Any
    ) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "action": action,
            "target": target,
            "from": old,
            "to": new,
            "outcome": outcome,
            **extra,
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
