"""Errors as RFC 9457 problem documents (`application/problem+json`), never a traceback.

    raise Problem.not_found("unknown service 'paymnts'", hint="did you mean 'payments'? ...")

Each kind of problem has a `type` URI, `urn:cfgctl:problem:<kind>`, an HTTP status and the exit
code the CLI gives the same failure (`exit_code`: 2 bad input, 1 a check or policy said no,
3 the environment, 70 a bug): a script reads the same meaning from both. A `CfgctlError` that
reaches the edge is mapped by its class; what the request itself got wrong (an unknown name, a
bad parameter) is raised here as the precise kind before the library is called.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.routing import Match

from cfgctl.errors import CfgctlError, CheckFailed, EnvError, Location

__all__ = [
    "KINDS",
    "PROBLEM_MEDIA_TYPE",
    "SPRING_TAG",
    "Problem",
    "ProblemDocument",
    "install",
    "problem_responses",
]

log = logging.getLogger("cfgctl.server")
PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:cfgctl:problem:"
_PROBLEM_REF = "#/components/schemas/ProblemDocument"

# kind -> (status, title, exit code of the CLI for the same failure)
KINDS: dict[str, tuple[int, str, int]] = {
    "bad-request": (400, "Bad request", 2),
    "unauthenticated": (401, "Authentication required", 2),
    "forbidden": (403, "Forbidden", 1),
    "not-found": (404, "Not found", 2),
    "method-not-allowed": (405, "Method not allowed", 2),
    "conflict": (409, "Conflict with the change request's state", 1),
    "precondition-failed": (412, "The configuration changed since it was read", 1),
    "payload-too-large": (413, "The request's body is too large", 2),
    "unsupported-media-type": (415, "Unsupported media type", 2),
    "invalid-patch": (422, "The patch cannot be applied", 2),
    "invalid-parameter": (422, "A parameter of the template is not valid", 2),
    "precondition-required": (428, "If-Match required", 2),
    "invalid-repository": (422, "The repository cannot be read", 2),
    "check-failed": (422, "The configuration fails its checks", 1),
    "environment": (503, "The server's environment is missing something", 3),
    "internal": (500, "Internal error", 70),
}


class ProblemDocument(BaseModel):
    """The problem document, for the OpenAPI description."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    exit_code: int
    hint: str | None = None
    location: dict[str, Any] | None = None


class Problem(Exception):
    """A problem to answer with; `kind` is one of KINDS."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        hint: str | None = None,
        location: Location | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.hint, self.location = kind, detail, hint, location
        self.extra = extra or {}
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return KINDS[self.kind][0]

    @classmethod
    def not_found(cls, detail: str, *, hint: str | None = None) -> Problem:
        return cls("not-found", detail, hint=hint)

    @classmethod
    def bad_request(cls, detail: str, *, hint: str | None = None) -> Problem:
        return cls("bad-request", detail, hint=hint)

    @classmethod
    def from_error(cls, exc: CfgctlError, kind: str | None = None) -> Problem:
        """`exc` as a problem: `kind` when the caller knows it, else by the error's class (an
        InputError this far is the repository's: the request's own were checked before)."""
        if kind is None:
            kind = (
                "check-failed"
                if isinstance(exc, CheckFailed)
                else "environment"
                if isinstance(exc, EnvError)
                else "invalid-repository"
            )
        return cls(kind, exc.message, hint=exc.hint, location=exc.location)

    def document(self, instance: str | None) -> dict[str, Any]:
        status, title, exit_code = KINDS[self.kind]
        doc: dict[str, Any] = {
            "type": TYPE_PREFIX + self.kind,
            "title": title,
            "status": status,
            "detail": self.detail,
            "instance": instance,
            "exit_code": exit_code,
        }
        if self.hint:
            doc["hint"] = self.hint
        if self.location is not None:
            loc = self.location
            doc["location"] = {"path": loc.path, "line": loc.line, "column": loc.column}
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.document(request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status answered with a problem document."""
    return {
        status: {
            "model": ProblemDocument,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _PROBLEM_REF}}},
            "description": ", ".join(title for kind, (s, title, _) in KINDS.items() if s == status),
        }
        for status in statuses
    }


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return "; ".join(parts) or "invalid request"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SPRING_TAG = "spring"  # the tag of compat.py's routes


def _allowed(request: Request) -> list[str]:
    """The methods some route of the app answers at the request's path (a path such as
    /api/v1/changes has one route for GET and another for POST); asked of each route as the
    router asks it, so routers included in others count too. Under /api/ the Spring Cloud
    Config fallback at the root (`/{application}/{profile}/{label}`, tagged `SPRING_TAG`) is
    no method of the path."""
    api = request.url.path.startswith("/api/")
    routes = [
        route
        for route in request.app.routes
        if not (api and SPRING_TAG in getattr(getattr(route, "original_router", None), "tags", ()))
    ]
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def install(app: FastAPI) -> None:
    """Answer every error of `app` with a problem document."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_cfgctl_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CfgctlError)
        return problem_response(Problem.from_error(exc), request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        hint = "see the parameters of this path in /api/v1/openapi.json"
        return problem_response(Problem.bad_request(_validation_detail(exc), hint=hint), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "bad-request")
        detail = f"no such path: {request.url.path}" if kind == "not-found" else str(exc.detail)
        hint = "the API lives under /api/v1/; /api/v1/openapi.json lists it"
        headers = dict(exc.headers or {})
        if kind == "method-not-allowed":  # every route of the path, not the first one's
            headers["Allow"] = ", ".join(_allowed(request))
        return problem_response(Problem(kind, detail, hint=hint, headers=headers), request)

    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        # Answered outside every middleware (Starlette's outermost): the request id is added
        # here, and named in the log line and the document, so the two can be matched.
        rid = getattr(request.state, "request_id", None)
        log.error("internal error on %s (%s): %s", request.url.path, rid, type(exc).__name__)
        detail = "the server failed on this request; this is a bug in cfgctl"
        hint = f"report it with its request_id {rid}" if rid else None
        headers = {"X-Request-Id": rid} if rid else None
        extra = {"request_id": rid} if rid else None
        problem = Problem("internal", detail, hint=hint, headers=headers, extra=extra)
        return problem_response(problem, request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(CfgctlError, on_cfgctl_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_bug)
