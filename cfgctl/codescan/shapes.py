"""What a literal's value looks like on its own: a URL, a host, a duration, a path, a log level,
prose, or a token of code (an encoding, a file mode, an HTTP method).

    shape_of("https://api.example.com/v1")    # ("url", "a URL")
    shape_of("payments-db.internal")          # ("host", "a host name")
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["LOG_LEVELS", "is_trivial", "shape_of"]

_URL = re.compile(r"^[a-z][a-z0-9+.-]{1,20}://[^\s]+$", re.IGNORECASE)
_SCHEMES = frozenset(
    {"http", "https", "ws", "wss", "redis", "rediss", "postgres", "postgresql", "mysql",
     "mariadb", "mongodb", "mongodb+srv", "amqp", "amqps", "kafka", "s3", "gs", "gcs", "ftp",
     "sftp", "ssh", "tcp", "udp", "unix", "grpc", "grpcs", "sqlite", "memcached", "nats",
     "ldap", "ldaps", "smtp", "smtps", "imap", "sentry", "file", "mssql", "oracle", "sqs",
     "azure", "etcd", "consul", "zookeeper", "elasticsearch", "es", "jdbc", "nfs", "sqla",
     "postgresql+psycopg2", "postgresql+asyncpg", "mysql+pymysql", "sqlite+aiosqlite"}
)  # fmt: skip
_TEMPLATE = re.compile(
    r"\{[0-9a-z_]*(?:[:!][^}]*)?\}|%(?:\([a-z_]+\))?[-+ #0]*\d*(?:\.\d+)?[sdifrx]", re.IGNORECASE
)
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_HOST = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:internal|local|lan|com|net|org|io|dev|cloud|svc|cluster|example|amazonaws|[a-z]{2})$",
    re.IGNORECASE,
)
_HOST_PORT = re.compile(r"^[a-z0-9.-]+:\d{2,5}$", re.IGNORECASE)
_DURATION = re.compile(r"^\d+(?:\.\d+)?\s?(?:ms|s|sec|m|min|h|d|us|ns)$", re.IGNORECASE)
_PATH = re.compile(r"^(?:/[\w.@+-]+){2,}/?$|^~/|^[A-Za-z]:\\|^\./[\w.-]+/")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "TRACE"})
_CODE_TOKENS = frozenset(
    {"utf-8", "utf8", "ascii", "latin-1", "latin1", "r", "w", "rb", "wb", "a", "ab", "r+",
     "strict", "ignore", "replace", "surrogateescape", "get", "post", "put", "patch", "delete",
     "head", "options", "application/json", "text/html", "text/plain", "content-type",
     "authorization", "accept", "user-agent", "true", "false", "none", "null", "yes", "no",
     "big", "little", "__main__", "self", "cls", "id", "name", "value", "key", "type"}
)  # fmt: skip


def is_trivial(value: Any) -> bool:
    """Never configuration: 0, 1, -1, an empty or one-character string, whitespace or
    punctuation only, a long text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return True  # 1e400: no JSON or YAML reader gives it back
    if isinstance(value, (int, float)):
        return value in (0, 1, -1)
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True  # a lone surrogate: no configuration file can hold it
        text = value.strip()
        return len(text) < 2 or len(value) > 300 or not any(ch.isalnum() for ch in text)
    return True


def shape_of(value: Any) -> tuple[str, str] | None:
    """(shape, reason) of a string that looks like something on its own, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _URL.match(text):
        scheme = text.split(":", 1)[0].lower()
        return ("url", "a URL") if scheme in _SCHEMES else ("uri", "a URI")
    return _text_shape(text)


def _text_shape(text: str) -> tuple[str, str] | None:
    if _TEMPLATE.search(text):
        return "template", "a format template"
    if _IPV4.match(text) or text in ("localhost", "0.0.0.0", "::", "::1"):
        return "host", "an IP address or localhost"
    if _HOST_PORT.match(text) and ("." in text or not text[0].isdigit()):
        return "host", "a host:port"
    if _HOST.match(text) and not text.lower().endswith((".py", ".txt", ".json", ".yaml")):
        return "host", "a host name"
    if _DURATION.match(text):
        return "duration", "a duration"
    if _EMAIL.match(text):
        return "email", "an email address"
    if _PATH.match(text):
        return "path", "a file path"
    if text.upper() in LOG_LEVELS and text in (text.upper(), text.lower()):
        return "level", "a log level"
    if text.lower() in _CODE_TOKENS:
        return "code", "a token of code"
    if len(text.split()) >= 3 or (text.endswith((".", ":", "!", "?")) and " " in text):
        return "prose", "prose"
    return None
