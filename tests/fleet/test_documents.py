"""The fleet's keys, documents and digests, and its bad-input errors, without a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfgctl.errors import InputError
from cfgctl.fleet.documents import (
    FleetDataError,
    HeadDoc,
    LayerDoc,
    PairDoc,
    digest,
    index_bytes,
    parse_index,
)
from cfgctl.fleet.etcd import parse_endpoints, prefix_end
from cfgctl.fleet.layout import Layout, shard_of


def test_endpoints_are_parsed_or_refused_with_the_reason() -> None:
    assert parse_endpoints("http://10.0.0.1:2379, https://e2:2380,10.0.0.3") == [
        "http://10.0.0.1:2379",
        "https://e2:2380",
        "http://10.0.0.3:2379",
    ]
    for bad in (
        "ftp://h:1",
        "http://h:1/path",
        "http://:1",
        "http://h:99999",
        " , ",
        "http://[::1",
    ):
        with pytest.raises(InputError):
            parse_endpoints(bad)


def test_the_layout_owns_only_its_own_keys() -> None:
    layout = Layout.of("/cfgctl/")
    assert layout.prefix == "/cfgctl" and layout.head == "/cfgctl/v1/head"
    assert layout.owns(layout.config("prod", "payments"))
    assert layout.owns(layout.index("prod", shard_of("payments")))
    assert layout.owns(layout.file("schemas/web-service.schema.json"))
    assert layout.owns(layout.agent("prod", "host-1"))
    assert layout.owns(layout.commit) and layout.owns(layout.roots("prod"))
    assert not layout.owns(layout.roots("prod") + "/x")
    assert not layout.owns("/cfgctl/v1/config/prod/payments/extra")
    assert not layout.owns("/cfgctl/other")
    assert not layout.owns("/cfgctl/v2/head")
    for bad in ("cfgctl", "/a//b", "/a\nb", "/", "/cfgctl/v1/agents/prod/zz"):
        with pytest.raises(InputError):
            Layout.of(bad)
    assert prefix_end("/cfgctl/") == "/cfgctl0"
    assert len({shard_of(f"svc{i}") for i in range(2000)}) == 256


def test_a_pair_round_trips_and_a_changed_byte_breaks_its_digest() -> None:
    layers = [
        LayerDoc("config/prod/_defaults.yaml", "defaults", "log: {level: info}\n"),
        LayerDoc("config/prod/payments.yaml", "service", "db: {pool_size: 40}\n"),
        LayerDoc("config/prod/payments.secrets.yaml", "secrets", "db: {password: ENC[...]}\n"),
    ]
    plain = [{"log": {"level": "info"}}, {"db": {"pool_size": 40}}]
    pair = PairDoc.build("payments", "prod", "a" * 40, layers, plain)
    raw = pair.to_bytes()
    again = PairDoc.parse("k", raw)
    assert again == pair and again.config == {"log": {"level": "info"}, "db": {"pool_size": 40}}
    # the commit is not part of the digest: the same layers at a later commit are unchanged
    assert PairDoc.build("payments", "prod", "b" * 40, layers, plain).digest == pair.digest
    with pytest.raises(FleetDataError, match="does not match its digest"):
        PairDoc.parse("k", raw.replace(b"pool_size: 40", b"pool_size: 41"))
    with pytest.raises(FleetDataError, match=r"does not hold a cfgctl\.pair"):
        PairDoc.parse("k", b'{"kind": "something"}')
    with pytest.raises(FleetDataError, match=r"does not hold a cfgctl\.pair"):
        PairDoc.parse("k", b"\xff not json")
    with pytest.raises(FleetDataError, match=r"does not hold a cfgctl\.pair"):
        PairDoc.parse("k", b"[" * 100_000 + b"]" * 100_000)  # nesting deeper than json's stack
    edited = json.loads(raw)
    edited["config"]["db"]["pool_size"] = 999  # the rendered part alone, layers untouched
    with pytest.raises(FleetDataError, match="not that of its layers"):
        PairDoc.parse("k", json.dumps(edited).encode())
    with pytest.raises(FleetDataError, match="format 2"):
        PairDoc.parse("k", raw.replace(b'"format":1', b'"format":2'))


def test_head_and_index_documents_parse_or_are_refused() -> None:
    head = HeadDoc("c" * 40, {"prod/ab": digest(b"x")}, {"cfgctl.yaml": digest(b"y")}, 3)
    assert HeadDoc.parse("h", head.to_bytes()) == head
    far = head.to_bytes().replace(b'"commit_time":0', b'"commit_time":' + b"9" * 30)
    with pytest.raises(FleetDataError, match="out of range"):
        HeadDoc.parse("h", far)
    with pytest.raises(FleetDataError, match="missing fields"):
        HeadDoc.parse("h", b'{"kind": "cfgctl.head", "format": 1}')
    assert parse_index("i", index_bytes({"payments": "sha256:1"})) == {"payments": "sha256:1"}
    with pytest.raises(FleetDataError):
        parse_index("i", b'{"kind": "cfgctl.index", "format": 1, "pairs": []}')


def test_agent_yaml_etcd_mistakes_are_reported_at_their_line(tmp_path: Path) -> None:
    from cfgctl.agent.config import load_agent_config

    def load(text: str) -> str:
        path = tmp_path / "agent.yaml"
        path.write_text(text)
        with pytest.raises(InputError) as caught:
            load_agent_config(path)
        return f"{caught.value.location}: {caught.value.message}"

    target = "targets:\n  - {service: payments, env: prod, path: out.yaml}\n"
    both = load("source: {url: /x, etcd: {endpoints: [http://e:2379]}}\nstate_dir: s\n" + target)
    assert "agent.yaml:1" in both and "not both" in both
    other_env = load(
        "source: {etcd: {endpoints: [http://e:2379], env: staging}}\nstate_dir: s\n" + target
    )
    assert "agent.yaml:4" in other_env and "source.etcd.env is 'staging'" in other_env
    bad_url = load("source: {etcd: {endpoints: [ftp://e]}}\nstate_dir: s\n" + target)
    assert "agent.yaml:1" in bad_url and "not an etcd endpoint" in bad_url
    config = tmp_path / "ok.yaml"
    config.write_text(
        "source: {etcd: {endpoints: [e1, 'http://e2:2379']}}\nstate_dir: s\n" + target
    )
    loaded = load_agent_config(config)
    assert loaded.source.etcd is not None and loaded.source.etcd.env == "prod"
    assert loaded.source.etcd.endpoints == ("http://e1:2379", "http://e2:2379")
