"""The cfgctl SDK: a service's configuration as its own typed, immutable object.

    from cfgctl.sdk import load, watch

    settings = load("config.yaml", Settings)          # a frozen dataclass or pydantic model
    with watch("config.yaml", Settings, on_change=resize, keys=["db.*"]) as watcher:
        serve(lambda: watcher.current)                 # always the newest valid version

Errors are `ConfigError` (an `InputError`, exit 2) naming every bad key as a dotted path with its
file:line:col. `provider(Settings, path)` (a FastAPI dependency), the Flask extension
`CfgctlSettings` and the decorator `inject` hand out the current configuration of one shared
`watch` (cfgctl/sdk/inject.py). `cfgctl schema generate MODULE:CLASS` writes the model's JSON
Schema. `remote(url, service, env, Settings)` reads it from a cfgctl server instead of a file,
kept up to date by the server's long poll, with a cache for when the server is down;
`watch_etcd(endpoints, service, env, Settings)` straight from etcd (`cfgctl fleet publish`).
The guide is docs/sdk.md.
"""

from cfgctl.sdk.etcdwatch import EtcdWatcher, watch_etcd
from cfgctl.sdk.inject import (
    INJECTED,
    CfgctlSettings,
    Provider,
    current_settings,
    inject,
    provider,
    stop_all,
)
from cfgctl.sdk.loader import load, loads
from cfgctl.sdk.remote import RemoteWatcher, remote
from cfgctl.sdk.schema import import_model, model_schema
from cfgctl.sdk.typed import ConfigError, Problem
from cfgctl.sdk.watch import Watcher, watch

__all__ = [
    "INJECTED",
    "CfgctlSettings",
    "ConfigError",
    "EtcdWatcher",
    "Problem",
    "Provider",
    "RemoteWatcher",
    "Watcher",
    "current_settings",
    "import_model",
    "inject",
    "load",
    "loads",
    "model_schema",
    "provider",
    "remote",
    "stop_all",
    "watch",
    "watch_etcd",
]
