"""The Kubernetes manifests, offline: every document of deploy/kubernetes/ and of what `cfgctl
deploy render --for kubernetes|sidecar` makes from the example and the variants validates
against Kubernetes' own schemas (kubernetes-validate, strict: no unknown field), and every
container runs hardened (non-root, read-only root, no privilege escalation, no capabilities,
RuntimeDefault seccomp) with its resources set."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.deployfiles import CHECKED_IN, EXAMPLE, STATIC_MANIFESTS, write_variants

kv = pytest.importorskip("kubernetes_validate")

# The oldest Kubernetes still in its vendors' support when this was written, and the newest the
# installed kubernetes-validate knows.
VERSIONS = ["1.30", kv.latest_version()]
Doc = dict[str, Any]


def _documents(text: str, source: str) -> list[tuple[str, Doc]]:
    from cfgctl.repo.yamlio import parse_all

    return [(f"{source}#{d.data['kind']}", d.data) for d in parse_all(text, source) if d.data]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Doc]]:
    folder = tmp_path_factory.mktemp("agents")
    out: list[tuple[str, Doc]] = []
    for path in [*STATIC_MANIFESTS, CHECKED_IN["kubernetes"], CHECKED_IN["sidecar"]]:
        out += _documents(path.read_text(), path.name)
    agents = {"example": EXAMPLE, **write_variants(folder)}
    for kind in ("kubernetes", "sidecar"):
        for name, path in agents.items():
            result = run_cli("deploy", "render", "--for", kind, str(path))
            if result.exit_code == 2 and "reloaded by a signal" in result.stderr:
                continue  # a DaemonSet cannot signal the node's processes: test_render.py
            assert result.exit_code == 0, result.stderr
            out += _documents(result.stdout, f"{kind}:{name}")
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_every_document_validates(documents: list[tuple[str, Doc]], version: str) -> None:
    problems = []
    for source, doc in documents:
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            problems.append(f"{source}: {exc.message} at {'.'.join(map(str, exc.path))}")
    assert problems == []


def test_the_kinds_asked_for_are_there(documents: list[tuple[str, Doc]]) -> None:
    kinds = {(source.split("#")[0], doc["kind"]) for source, doc in documents}
    assert ("cfgctl-agent-daemonset.yaml", "DaemonSet") in kinds
    assert ("cfgctl-agent-daemonset.yaml", "ConfigMap") in kinds
    assert ("cfgctl-agent-sidecar.yaml", "Deployment") in kinds
    assert ("cfgctl-serve.yaml", "Deployment") in kinds
    assert ("cfgctl-serve.yaml", "Service") in kinds
    assert ("cfgctl-publish-job.yaml", "Job") in kinds


def _pods(documents: list[tuple[str, Doc]]) -> list[tuple[str, Doc]]:
    return [
        (source, doc["spec"]["template"]["spec"])
        for source, doc in documents
        if doc["kind"] in ("DaemonSet", "Deployment", "Job")
    ]


def test_every_container_is_hardened(documents: list[tuple[str, Doc]]) -> None:
    pods = _pods(documents)
    assert len(pods) >= 8
    for source, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, source
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, source
        assert pod["automountServiceAccountToken"] is False, source
        for container in pod["containers"] + pod.get("initContainers", []):
            where = f"{source}: {container['name']}"
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert container["resources"]["requests"], where
            assert ":" in container["image"] and not container["image"].endswith(":latest")


def test_serve_is_probed_on_its_health_endpoint(documents: list[tuple[str, Doc]]) -> None:
    [(_, pod)] = [(s, p) for s, p in _pods(documents) if s.startswith("cfgctl-serve.yaml")]
    [serve] = pod["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert serve[probe]["httpGet"]["path"] == "/api/v1/health"
    [deployment] = [d for s, d in documents if s == "cfgctl-serve.yaml#Deployment"]
    [service] = [d for s, d in documents if s == "cfgctl-serve.yaml#Service"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == serve["ports"][0]["name"]


def test_the_publisher_publishes_to_etcd(documents: list[tuple[str, Doc]]) -> None:
    [(_, pod)] = [(s, p) for s, p in _pods(documents) if s.startswith("cfgctl-publish-job.yaml")]
    [publish] = pod["containers"]
    assert publish["args"][2:5] == ["fleet", "publish", "--etcd"]
    assert pod["restartPolicy"] == "Never"


def test_validation_can_fail() -> None:
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {},
            "template": {"spec": {"containers": [{"name": "x", "imagee": "y"}]}},
        },
    }
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, VERSIONS[0], strict=True)


def test_hostpaths_must_exist() -> None:
    """The node's folders are not made by the kubelet (they would be root's, unwritable)."""
    docs = _documents(CHECKED_IN["kubernetes"].read_text(), "daemonset")
    pod = docs[1][1]["spec"]["template"]["spec"]
    assert {v["hostPath"]["type"] for v in pod["volumes"] if "hostPath" in v} == {"Directory"}
