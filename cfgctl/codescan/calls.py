"""Calls as evidence: what a call does to its arguments (a message, an option's definition, a
settings getter's fallback), the functions that consume configuration, what each argument of
theirs is, and the group (`db`, `http`, `log`) their keywords belong to.

    consumer("requests.get", "timeout")   # ("http", "timeout"): requests.get(..., timeout=5)
    consumer("time.sleep", 0)             # ("", "sleep_seconds")
"""

from __future__ import annotations

__all__ = [
    "CLI_OPTIONS",
    "ENV_GETTERS",
    "KEY_METHODS",
    "PASS_THROUGH",
    "SETTINGS_CLASS",
    "SETTINGS_OWNERS",
    "SETTING_CALLS",
    "consumer",
    "group_of_call",
    "message_of",
]

# --- what a call does to its arguments (the scan's walk) ------------------------------------------

PASS_THROUGH = frozenset(
    {"int", "float", "str", "bool", "Decimal", "decimal.Decimal", "Path", "pathlib.Path",
     "timedelta", "datetime.timedelta", "frozenset", "set", "tuple", "list"}
)  # fmt: skip
ENV_GETTERS = frozenset({"os.environ.get", "environ.get", "os.getenv", "getenv",
                          "os.environ.setdefault", "environ.setdefault", "env.get", "env",
                          "config", "decouple.config", "env.str", "env.int", "env.bool",
                          "env.float"})  # fmt: skip
SETTINGS_OWNERS = ("config", "conf", "settings", "options", "opts", "cfg", "environ", "env")
MESSAGE_CALLS = frozenset(
    {"print", "warnings.warn", "click.echo", "click.secho", "sys.exit", "exit", "_", "gettext",
     "ngettext", "gettext_lazy", "ugettext", "format", "repr", "isinstance", "issubclass",
     "hasattr", "getattr", "setattr", "delattr", "len", "range", "enumerate", "zip", "round",
     "re.compile", "re.match", "re.search", "re.sub", "re.split", "re.findall", "re.fullmatch",
     "struct.pack", "struct.unpack", "struct.calcsize", "struct.Struct", "open",
     "namedtuple", "collections.namedtuple", "TypeVar", "typing.TypeVar", "NewType",
     "cast", "typing.cast", "sorted", "min", "max", "sum", "divmod", "chr", "ord", "hex",
     "bytes", "bytearray", "memoryview", "super", "type", "object", "logging.getLogger",
     "getLogger", "Enum", "IntEnum",
     "argparse.ArgumentParser", "ArgumentParser", "add_parser",
     "deprecated", "property", "staticmethod", "classmethod"}
)  # fmt: skip
# Command-line options: their `default=` is configuration, named by the option's flag or dest.
CLI_OPTIONS = frozenset({"add_argument", "add_option", "addoption", "option", "Option", "Argument"})
# Declared settings (celery's Option, oslo.config's IntOpt, traitlets, pydantic's and attrs'
# fields): the first positional argument or `default=` is the default of the name they are
# bound to.
SETTING_CALLS = frozenset(
    {"Option", "Setting", "ConfigOption", "Opt", "IntOpt", "StrOpt", "BoolOpt", "FloatOpt",
     "ListOpt", "PortOpt", "HostAddressOpt", "URIOpt", "Field", "field", "ib", "attrib",
     "Int", "Float", "Unicode", "Bool", "Integer", "CaselessStrEnum", "Var", "var"}
)  # fmt: skip
SETTINGS_CLASS = ("settings", "config", "configuration", "options", "defaults", "conf", "opts")
KEY_METHODS = frozenset({"get", "pop", "setdefault", "getlist", "get_json", "__getitem__"})
SCHEMA_CALLS = frozenset(
    {"Column", "String", "Integer", "Numeric", "relationship", "ForeignKey", "Index",
     "CheckConstraint", "UniqueConstraint", "Table", "mapped_column"}
)  # fmt: skip
MESSAGE_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "echo",
     "format", "join", "split", "rsplit", "strip", "lstrip", "rstrip", "startswith",
     "endswith", "replace", "encode", "decode", "find", "rfind", "index", "count",
     "partition", "rpartition", "write", "writelines", "append", "extend", "insert", "pop",
     "remove", "add", "discard", "update", "group", "groups", "sub",
     "match", "search", "fullmatch", "findall",
     "route", "get_route", "url_for",
     "getattr", "hasattr", "isoformat", "strftime", "strptime", "ljust", "rjust", "center",
     "zfill", "to_bytes", "from_bytes", "seek", "read", "readline", "fetch", "execute",
     "executemany", "filter", "exclude", "order_by", "values", "values_list", "annotate",
     "register", "connect_signal", "emit", "send_header", "send_response", "set_header",
     "add_header", "header", "translate", "maketrans", "expandtabs", "title"}
)  # fmt: skip


def message_of(name: str | None) -> str | None:
    """Why the arguments of a call are not configuration (a message, a format, a model field's
    definition), or None."""
    if name is None:
        return None
    last = name.rsplit(".", 1)[-1]
    if name in MESSAGE_CALLS or ("." in name and last in MESSAGE_METHODS):
        return f"an argument of {name}()"
    if last.endswith(("Error", "Exception", "Warning")) or last in ("HTTPException", "abort"):
        return "an exception's message"
    if last.endswith("Field") or last in SCHEMA_CALLS:
        return "a model field's definition"
    return None


# --- calls that consume configuration (the scoring's evidence) ------------------------------------


# (last part of the call's name, position) -> the key's leaf for a positional argument.
_POSITIONAL: dict[tuple[str, int], str] = {
    ("sleep", 0): "sleep_seconds",
    ("create_engine", 0): "url",
    ("create_async_engine", 0): "url",
    ("setLevel", 0): "level",
    ("basicConfig", 0): "level",
    ("ThreadPoolExecutor", 0): "max_workers",
    ("ProcessPoolExecutor", 0): "max_workers",
    ("Pool", 0): "processes",
    ("ThreadPool", 0): "processes",
    ("Semaphore", 0): "concurrency",
    ("BoundedSemaphore", 0): "concurrency",
    ("connect", 0): "host",
    ("connect", 1): "port",
    ("create_connection", 0): "address",
    ("SMTP", 0): "host",
    ("SMTP", 1): "port",
    ("SMTP_SSL", 0): "host",
    ("SMTP_SSL", 1): "port",
    ("Redis", 0): "host",
    ("Redis", 1): "port",
    ("StrictRedis", 0): "host",
    ("StrictRedis", 1): "port",
    ("from_url", 0): "url",
    ("MongoClient", 0): "url",
    ("ConnectionParameters", 0): "host",
    ("URLParameters", 0): "url",
    ("Celery", 1): "broker",
    ("setdefaulttimeout", 0): "timeout",
    ("settimeout", 0): "timeout",
    ("wait_for", 1): "timeout",
    ("timeout", 0): "timeout",
    ("urlopen", 0): "url",
    ("Queue", 0): "maxsize",
    ("LifoQueue", 0): "maxsize",
    ("lru_cache", 0): "cache_size",
    ("Limiter", 0): "rate",
    ("HTTPConnection", 0): "host",
    ("HTTPSConnection", 0): "host",
    ("HTTPConnectionPool", 0): "host",
    ("FTP", 0): "host",
    ("Elasticsearch", 0): "url",
    ("KafkaProducer", 0): "bootstrap_servers",
    ("KafkaConsumer", 1): "bootstrap_servers",
}
# The last part of a call's name -> the group its arguments belong to.
_GROUPS: dict[str, str] = {
    "create_engine": "db", "create_async_engine": "db", "connect": "db", "sessionmaker": "db",
    "Redis": "redis", "StrictRedis": "redis", "ConnectionPool": "redis", "from_url": "",
    "basicConfig": "log", "setLevel": "log", "getLogger": "log", "RotatingFileHandler": "log",
    "TimedRotatingFileHandler": "log", "FileHandler": "log", "SysLogHandler": "log",
    "SMTP": "smtp", "SMTP_SSL": "smtp", "MongoClient": "mongo", "Celery": "celery",
    "ConnectionParameters": "amqp", "URLParameters": "amqp", "BlockingConnection": "amqp",
    "ThreadPoolExecutor": "workers", "ProcessPoolExecutor": "workers", "Pool": "workers",
    "client": "aws", "resource": "aws", "Session": "http", "AsyncClient": "http",
    "Client": "http", "HTTPAdapter": "http", "Retry": "http", "PoolManager": "http",
    "Elasticsearch": "elasticsearch", "KafkaProducer": "kafka", "KafkaConsumer": "kafka",
    "run": "server", "serve": "server", "Config": "server", "HTTPServer": "server",
    "ThreadingHTTPServer": "server", "TCPServer": "server", "start_server": "server",
}  # fmt: skip
_HTTP_MODULES = ("requests", "httpx", "aiohttp", "urllib3", "session", "client", "http")
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "request", "options"})
_CONSUMERS = frozenset(set(_GROUPS) | {k for k, _ in _POSITIONAL} | {"sleep", "urlopen"})


def group_of_call(call: str | None) -> str | None:
    """The group a call's settings belong to (`db` for `create_engine`), or None."""
    if not call:
        return None
    head, _, last = call.rpartition(".")
    if last in _HTTP_VERBS and head.split(".")[-1].lower().endswith(_HTTP_MODULES):
        return "http"
    if head.split(".")[0] in ("boto3", "botocore"):
        return "aws"
    return _GROUPS.get(last) or None


def consumer(call: str | None, arg: str | int | None) -> tuple[str | None, str | None]:
    """(group, leaf) for a literal passed to a call that consumes configuration; (None, None)
    for a call cfgctl knows nothing about. `leaf` names a positional argument."""
    if not call:
        return None, None
    last = call.rpartition(".")[2]
    known = last in _CONSUMERS or group_of_call(call) is not None
    if not known:
        return None, None
    leaf = _POSITIONAL.get((last, arg)) if isinstance(arg, int) else None
    if isinstance(arg, int) and leaf is None and last not in _HTTP_VERBS:
        return None, None  # a positional argument of unknown meaning: a name, a path, a flag
    return group_of_call(call) or "", leaf
