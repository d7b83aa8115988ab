"""Spring Cloud Config compatibility: the paths a Spring Boot service's config client asks, at
the root (outside /api/v1/), so `spring.config.import=configserver:http://HOST:PORT` reads
cfgctl's effective configuration with nothing else changed (docs/api.md).

    GET /{application}/{profile}[/{label}]                  Spring's Environment JSON
    GET /{application}-{profile}.yml|.yaml|.properties|.json   the configuration as a file
    GET /{label}/{application}-{profile}.yml|...             the same at a label

- application is a service; profile a comma-separated list that must name exactly one
  environment (cfgctl environments inherit already: activate the most specific one). Every
  profile must be an environment; `default` (Spring's profile when none is active) is a 404
  whose hint says to set `spring.profiles.active`.
- label is a branch, tag or commit (Spring's `(_)` stands for `/`), read at that revision;
  without one, the served branch's head. The Environment's `version` is the commit read, its
  `label` the label given (or the served branch).
- Secrets: masked (`***`) in the Environment JSON, as every read of the API masks them; left
  out of the files, as `cfgctl export --skip-secrets` writes them (their dotted keys in the
  `Cfgctl-Omitted-Secrets` header). Never revealed here.
- `{application}-{profile}` is split at the hyphen where the left side is a service and the
  right side environments (`billing-api-prod-eu`: service billing-api, environment prod-eu).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import Response

from cfgctl.errors import CfgctlError
from cfgctl.repo.manifest import suggest
from cfgctl.server.etag import encode, etag_of, headers_for, not_modified
from cfgctl.server.problems import SPRING_TAG, Problem, problem_responses
from cfgctl.server.reads import commit_for
from cfgctl.server.rendering import config_document
from cfgctl.server.repository import ServedRepo, View
from cfgctl.server.security import Subject, authorize, current_subject

if TYPE_CHECKING:
    from cfgctl.repo.manifest import Manifest

__all__ = ["FILE_TYPES", "router"]

router = APIRouter(tags=[SPRING_TAG])
SubjectDep = Annotated[Subject, Depends(current_subject)]
INM = Annotated[str | None, Header()]
# extension -> (export format, media type)
FILE_TYPES = {
    "yml": ("yaml", "application/x-yaml"),
    "yaml": ("yaml", "application/x-yaml"),
    "properties": ("properties", "text/plain; charset=utf-8"),
    "json": ("json", "application/json"),
}
ERRORS = problem_responses(400, 403, 404, 422, 503)


def _label_rev(label: str | None) -> str | None:
    return None if label is None else label.replace("(_)", "/")


def _one_env(manifest: Manifest, profiles: list[str]) -> str:
    """The environment `profiles` name (see the module); a Problem otherwise."""
    envs = manifest.environments
    if profiles == ["default"] and "default" not in envs:
        raise Problem.not_found(
            "profile 'default' is no environment: the service runs with no active profile",
            hint="set spring.profiles.active to the environment, e.g. "
            f"spring.profiles.active={next(iter(envs), 'prod')}",
        )
    for profile in profiles:
        if profile not in envs:
            raise Problem.not_found(
                f"profile {profile!r} is no environment", hint=suggest(profile, envs, "environment")
            )
    if len(profiles) != 1:
        raise Problem.bad_request(
            f"profiles {','.join(profiles)} name {len(profiles)} environments; one is served",
            hint="environments inherit already (prod-eu inherits prod): activate the most "
            "specific one only",
        )
    return profiles[0]


def _split(manifest: Manifest, spec: str) -> tuple[str, list[str]]:
    """`{application}-{profile}` as (service, profiles): the split whose left side is a service
    and whose right side is all environments, else the first whose left side is a service."""
    splits = [
        (spec[:i], spec[i + 1 :].split(","))
        for i, char in enumerate(spec)
        if char == "-" and spec[:i] in manifest.services
    ]
    for service, profiles in splits:
        if all(p in manifest.environments for p in profiles):
            return service, profiles
    if splits:
        return splits[0]
    raise Problem.not_found(
        f"{spec!r} is not APPLICATION-PROFILE with a known service",
        hint=suggest(spec.split("-")[0], manifest.services, "service"),
    )


def _not_api(first: str) -> None:
    if first == "api":  # an unknown path of API v1, not a service named "api"
        raise Problem.not_found(
            "no such path", hint="the API lives under /api/v1/; /api/v1/openapi.json lists it"
        )


def _environment(
    served: ServedRepo, commit: str, service: str, profiles: list[str], label: str
) -> View:
    from cfgctl.operate.springenv import spring_environment

    env = _one_env(served.snapshot(commit).manifest, profiles)
    body = json.loads(config_document(served, commit, service, env, provenance=False, reveal=False))
    source = f"cfgctl:{service}@{env}"
    doc = spring_environment(service, profiles, label, commit, body["config"], source)
    return View.of(encode(doc), commit)


async def _resolve(request: Request, label: str | None) -> tuple[str, str]:
    """(commit, label): the label's revision, else the served branch's head."""
    commit = await commit_for(request, _label_rev(label))
    served: ServedRepo = request.app.state.served
    return commit, label if label is not None else served.branch


def _answer(
    if_none_match: str | None, body: bytes, commit: str, media: str, extra: dict[str, str]
) -> Response:
    etag = etag_of(body)
    headers = {"ETag": etag, **headers_for(commit), **extra}
    if not_modified(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


async def spring_env(
    request: Request,
    application: str,
    profile: str,
    subject: SubjectDep,
    if_none_match: INM = None,
) -> Response:
    return await _spring(request, application, profile, None, subject, if_none_match)


async def spring_env_at(
    request: Request,
    application: str,
    profile: str,
    label: str,
    subject: SubjectDep,
    if_none_match: INM = None,
) -> Response:
    return await _spring(request, application, profile, label, subject, if_none_match)


async def _spring(
    request: Request,
    service: str,
    profile: str,
    label: str | None,
    subject: Subject,
    if_none_match: str | None,
) -> Response:
    _not_api(service)
    profiles = [p.strip() for p in profile.split(",") if p.strip()]
    authorize(request, subject, "read", f"config:{service}@{','.join(profiles)}")
    served: ServedRepo = request.app.state.served
    commit, shown = await _resolve(request, label)
    key = (commit, "spring", service, tuple(profiles), shown)
    view = await served.once(key, lambda: _environment(served, commit, service, profiles, shown))
    return _answer(if_none_match, view.body, commit, "application/json", {})


def _file(served: ServedRepo, commit: str, spec: str, ext: str) -> tuple[bytes, list[str]]:
    """The file of `spec` (APPLICATION-PROFILE) at `commit`, and the secrets left out."""
    from cfgctl.operate.export import export_service

    snap = served.snapshot(commit)
    service, profiles = _split(snap.manifest, spec)
    env = _one_env(snap.manifest, profiles)
    served.check_pair(snap, service, env)
    try:
        exported = export_service(snap, service, env, FILE_TYPES[ext][0], skip_secrets=True)
    except CfgctlError as exc:
        raise Problem.from_error(exc) from None
    return exported.data, list(exported.omitted)


async def _serve_file(
    request: Request, spec: str, ext: str, label: str | None, subject: Subject, inm: str | None
) -> Response:
    served: ServedRepo = request.app.state.served
    commit, _ = await _resolve(request, label)
    # The name split first: the object authorized names the service and environment.
    service, profiles = await served.run(lambda: _split(served.snapshot(commit).manifest, spec))
    authorize(request, subject, "read", f"config:{service}@{','.join(profiles)}")
    data, omitted = await served.once(
        (commit, "spring-file", spec, ext), lambda: _file(served, commit, spec, ext)
    )
    extra = {"Cfgctl-Omitted-Secrets": ",".join(omitted)} if omitted else {}
    return _answer(inm, data, commit, FILE_TYPES[ext][1], extra)


def _file_route(ext: str, with_label: bool) -> None:
    async def at_label(
        request: Request, label: str, spec: str, subject: SubjectDep, if_none_match: INM = None
    ) -> Response:
        _not_api(label)
        return await _serve_file(request, spec, ext, label, subject, if_none_match)

    async def at_head(
        request: Request, spec: str, subject: SubjectDep, if_none_match: INM = None
    ) -> Response:
        return await _serve_file(request, spec, ext, None, subject, if_none_match)

    path = ("/{label}" if with_label else "") + "/{spec}." + ext
    media = FILE_TYPES[ext][1].split(";")[0]
    responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {media: {}}, "description": f"APPLICATION-PROFILE as .{ext}"},
        304: {"description": "Not modified"},
        **ERRORS,
    }
    router.add_api_route(
        path,
        at_label if with_label else at_head,
        methods=["GET"],
        responses=responses,
        summary=f"Spring Cloud Config: APPLICATION-PROFILE.{ext}"
        + (" at LABEL" if with_label else ""),
        name=f"spring_file_{ext}" + ("_at_label" if with_label else ""),
    )


# The file routes come first: /{label}/{spec}.yml must not be read as /{application}/{profile}.
for _ext in FILE_TYPES:
    _file_route(_ext, with_label=False)
    _file_route(_ext, with_label=True)
router.add_api_route(
    "/{application}/{profile}",
    spring_env,
    methods=["GET"],
    responses={304: {"description": "Not modified"}, **ERRORS},
    summary="Spring Cloud Config: the Environment of APPLICATION in PROFILE",
)
router.add_api_route(
    "/{application}/{profile}/{label}",
    spring_env_at,
    methods=["GET"],
    responses={304: {"description": "Not modified"}, **ERRORS},
    summary="Spring Cloud Config: the Environment of APPLICATION in PROFILE at LABEL",
)
