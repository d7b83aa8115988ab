"""Names as evidence: the words of `DB_POOL_SIZE`, `maxRetries` or `timeout_ms`, what each says
about a value bound to it, and the groups (`db`, `redis`, `http`) a key is filed under.

    words("maxRetries")       # ["max", "retries"]
    name_weight(["db", "pool", "size"])   # (3.0, ["pool", "size", "db"])
"""

from __future__ import annotations

import re

__all__ = ["GROUPS", "SECRET_WORDS", "name_weight", "negative_words", "secret_name", "words"]

_SPLIT = re.compile(r"[A-Z]+\d*(?=[A-Z][a-z]|\b|_)|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")

STRONG = frozenset(
    {"timeout", "timeouts", "port", "host", "hostname", "hosts", "url", "urls", "uri", "endpoint",
     "dsn", "retries", "retry", "pool", "workers", "worker", "interval", "ttl", "debug",
     "region", "bucket", "concurrency", "backoff", "keepalive", "threshold", "broker",
     "proxy", "expire", "expires", "expiry", "expiration", "delay", "deadline", "smtp",
     "addr", "address", "loglevel", "maxsize", "capacity", "prefetch", "heartbeat", "sentry",
     "webhook", "baseurl", "database", "verbose", "verbosity", "jitter", "backlog",
     "lifetime", "timezone", "locale", "origins", "domain"}
)  # fmt: skip
MEDIUM = frozenset(
    {"size", "limit", "limits", "max", "min", "maximum", "minimum", "batch", "chunk", "buffer",
     "queue", "cache", "rate", "level", "dir", "directory", "path", "file", "filename",
     "folder", "user", "username", "db", "redis", "seconds", "secs", "sec", "ms", "millis",
     "minutes", "mins", "hours", "days", "period", "frequency", "attempts", "threads",
     "processes", "connections", "conns", "enabled", "enable", "disable", "disabled",
     "feature", "flag", "env", "environment", "namespace", "topic", "channel", "exchange",
     "schedule", "cron", "window", "quota", "ratio", "percent", "grace", "poll", "allowed",
     "tz", "language", "lang", "email", "sender", "server", "log", "logging", "mongo",
     "postgres", "mysql", "kafka", "amqp", "rabbitmq", "celery", "memcached", "elasticsearch",
     "s3", "aws", "gcs", "replicas", "shards", "partitions", "chunks", "count",
     "sample", "samples", "budget", "wait", "sleep", "recycle", "overflow", "cooldown"}
)  # fmt: skip
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "apikey", "credentials", "credential",
     "passphrase", "privatekey"}
)  # fmt: skip
NEGATIVE = frozenset(
    {"message", "msg", "messages", "text", "label", "title", "description", "desc", "help",
     "doc", "docs", "fmt", "format", "pattern", "regex", "re", "sep", "separator",
     "delimiter", "encoding", "charset", "errors", "template", "query", "sql", "header",
     "headers", "method", "methods", "mimetype", "status", "code", "reason", "field",
     "column", "table", "attr", "attribute", "tag", "tags", "type", "kind", "choices", "alias",
     "related", "ordering", "unique", "version", "author", "license", "index",
     "idx", "char", "chars", "prompt", "example", "suffix", "ext", "extension",
     "mode", "name", "key", "keys", "id", "ids", "magic", "marker", "prefix", "unit", "units",
     "i", "j", "k", "n", "x", "y", "z", "exit", "signal", "color", "colour", "style",
     "width", "height", "indent", "precision", "digits", "bits", "bytes", "offset", "length"}
)  # fmt: skip
GROUPS: dict[str, str] = {
    "db": "db", "database": "db", "sql": "db", "sqlalchemy": "db", "postgres": "db",
    "postgresql": "db", "pg": "db", "mysql": "db", "redis": "redis", "cache": "cache",
    "http": "http", "https": "http", "smtp": "smtp", "mail": "mail", "email": "email",
    "log": "log", "logging": "log", "logger": "log", "aws": "aws", "s3": "s3", "kafka": "kafka",
    "amqp": "amqp", "rabbitmq": "amqp", "rabbit": "amqp", "broker": "broker",
    "celery": "celery", "api": "api", "auth": "auth", "oauth": "auth", "jwt": "jwt",
    "server": "server", "client": "client", "worker": "worker", "workers": "worker",
    "queue": "queue", "mongo": "mongo", "mongodb": "mongo", "sentry": "sentry",
    "session": "session", "cookie": "cookie", "cors": "cors", "metrics": "metrics",
    "statsd": "statsd", "grpc": "grpc", "ldap": "ldap", "elasticsearch": "elasticsearch",
    "es": "elasticsearch", "sqs": "sqs", "proxy": "proxy", "upstream": "upstream",
    "memcached": "memcached", "web": "web", "app": "app", "ssl": "tls", "tls": "tls",
}  # fmt: skip
_NUMERIC_SUFFIX = frozenset({"seconds", "secs", "sec", "ms", "millis", "minutes", "hours", "days"})


def words(name: str) -> list[str]:
    """The lower-case words of an identifier or a dict key: snake, camel, UPPER and kebab."""
    return [w.lower() for w in _SPLIT.findall(name.replace("-", "_"))]


def name_weight(ws: list[str]) -> tuple[float, list[str]]:
    """The evidence a name gives (the strongest word, +0.5 for each further one, up to +1) and
    the words that gave it."""
    joined = "".join(ws)
    found = [w for w in ws if w in STRONG or w in MEDIUM]
    if joined in STRONG and joined not in found:
        found.append(joined)
    if not found:
        return 0.0, []
    best = max(2.5 if w in STRONG else 1.5 for w in found)
    return best + min(1.0, 0.5 * (len(found) - 1)), found


def negative_words(ws: list[str]) -> list[str]:
    """The words that say a name holds code, not configuration (`message`, `pattern`, `index`),
    unless a word of configuration comes after them (`log_format_level`)."""
    if not ws:
        return []
    last = ws[-1]
    if last in STRONG or last in MEDIUM or last in _NUMERIC_SUFFIX:
        return []
    return [w for w in ws if w in NEGATIVE]


def secret_name(ws: list[str]) -> bool:
    """`db_password`, `API_KEY`, `secretKey`, `auth_token` (not `token_type`, `password_field`)."""
    if not ws:
        return False
    last = ws[-1]
    joined2 = "".join(ws[-2:])
    if last in SECRET_WORDS or joined2 in ("apikey", "privatekey", "secretkey", "accesskey"):
        return True
    return last == "key" and len(ws) >= 2 and ws[-2] in ("api", "secret", "private", "access")
