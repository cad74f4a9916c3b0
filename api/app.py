"""The integration API's application: endpoints, error shapes, OpenAPI.

``create_app(store)`` builds it for one open store; ``from_environment`` is
the factory ``serve --workers N`` gives uvicorn (each worker opens the database
named by ``INTEGRATIONS_ADMIN_DB``). Endpoints are plain functions that call
``store/`` (FastAPI runs them in its thread pool) and turn its frozen values
into the models of ``schemas.py``; every refusal of the store becomes a
``{"status", "title", "detail"}`` body (422s add ``errors``: each field and
message), never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from anyio import to_thread
from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from store import __version__, apiaccess, contracts
from store.contracts import ContractDetail
from store.db import Store
from store.errors import (
    Conflict,
    DomainError,
    Invalid,
    LimitReached,
    NotFound,
    PermissionDenied,
    PlanRequired,
    StoreUnavailable,
    TokenRefused,
    ValidationError,
)
from store.tokens import ApiCaller
from store.validate import MAX_ID, printable

from . import schemas
from .gate import TITLES, Gate
from .requestlog import RequestLog

log = logging.getLogger("integrations_admin.api")

RATE_LIMIT_ENV = "INTEGRATIONS_ADMIN_API_RATE_LIMIT"  # for the benchmark only; default 2000
PRUNE_EVERY_S = 3600

DESCRIPTION = """\
The API that custom integrations call with their API tokens: read this
integration's blueprints and the playbooks connected to them, and create
contracts whose values flow through the playbook's mappings.

**Authentication**: `Authorization: Bearer <token>` or `X-Oneflow-API-Token: <token>`.
A token is generated, and shown once, in integrations-admin (an integration's API
tokens tab). A refusal is `401` with a body that says why, never the token.

**Rate limit**: 2000 requests per token per 5-minute window, shared by every API
process on the database; past it `429` with `Retry-After` (seconds).

**Errors** are `{"status", "title", "detail"}`; `422` adds `errors`, a list of
`{"field", "message"}`. `400` malformed JSON, `404` not this integration's (ids of
other integrations are not revealed), `409` a state change that is not allowed,
`413` a body over 1 MiB.
"""

COMMON = {
    401: {"model": schemas.Problem, "description": "No token, or a refused one"},
    413: {"model": schemas.Problem, "description": "The body is over 1 MiB"},
    422: {"model": schemas.ValidationProblem, "description": "Invalid input"},
    429: {"model": schemas.Problem, "description": "Rate limit reached (see Retry-After)"},
}
NOT_FOUND = {404: {"model": schemas.Problem, "description": "Not this integration's"}}
BAD_JSON = {400: {"model": schemas.Problem, "description": "Malformed JSON"}}
CONFLICT = {409: {"model": schemas.Problem, "description": "Not allowed in this state"}}

ContractId = Annotated[int, Path(ge=1, le=MAX_ID, description="The contract's id")]
BlueprintId = Annotated[int, Path(ge=1, le=MAX_ID, description="The blueprint's id")]


def _caller(request: Request) -> ApiCaller:
    return request.scope["state"]["caller"]


def _contract(d: ContractDetail, status: int = 200) -> Response:
    """The contract as JSON (``schemas.ContractOut``, which the route declares for
    the OpenAPI document): built once and written as it is, where returning the
    model made FastAPI validate and serialize it a second time."""
    c = d.contract
    out = schemas.ContractOut(
        id=c.id,
        name=c.name,
        state=c.state,  # type: ignore[arg-type]
        playbook_id=c.playbook_id,
        playbook_name=c.playbook_name,
        created_at=c.created_at,
        updated_at=c.updated_at,
        data_fields=[
            schemas.ContractDataField(
                id=v.data_field_id,
                name=v.name,
                value=v.value,
                source=v.source,
                source_field_id=v.source_field_id,
            )
            for v in d.values
        ],
    )
    return Response(out.model_dump_json(), status_code=status, media_type="application/json")


def _blueprint(b: apiaccess.ApiBlueprint) -> schemas.BlueprintOut:
    return schemas.BlueprintOut(
        id=b.id,
        name=b.name,
        description=b.description,
        fields=[
            schemas.BlueprintFieldOut(
                id=f.id, name=f.name, description=f.description, mapping_required=f.mapping_required
            )
            for f in b.fields
        ],
    )


def _playbook(p: apiaccess.ApiPlaybook) -> schemas.PlaybookOut:
    return schemas.PlaybookOut(
        id=p.id,
        name=p.name,
        description=p.description,
        blueprint_ids=list(p.blueprint_ids),
        data_fields=[
            schemas.DataFieldOut(
                id=d.id, name=d.name, description=d.description, default_value=d.default_value
            )
            for d in p.data_fields
        ],
        mappings=[
            schemas.MappingOut(
                blueprint_id=m.blueprint_id,
                blueprint_field_id=m.blueprint_field_id,
                blueprint_field_name=m.blueprint_field_name,
                data_field_id=m.data_field_id,
            )
            for m in p.mappings
        ],
    )


# -- errors ----------------------------------------------------------------------


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any):
    return JSONResponse(
        {"status": status, "title": TITLES.get(status, "Error"), "detail": detail, **extra},
        status_code=status,
        headers=headers,
    )


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, ValidationError | LimitReached):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, TokenRefused):
        return 401
    if isinstance(exc, PermissionDenied | PlanRequired):
        return 403
    if isinstance(exc, StoreUnavailable):
        return 503
    return 400


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = _status_of(exc)
    if isinstance(exc, Invalid):
        errors = [{"field": f, "message": m} for f, m in exc.problems]
        return problem(422, exc.message, errors=errors)
    if isinstance(exc, ValidationError):
        return problem(422, exc.message, errors=[{"field": exc.field, "message": exc.message}])
    headers = {"Retry-After": "5"} if status == 503 else None
    return problem(status, exc.message, headers)


def _shown(text: str, limit: int = 60) -> str:
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_of(loc: tuple | list) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "path", "query") else []
    return _shown(".".join(parts), 120) or "body"


def _message(err: dict) -> str:
    kind = err.get("type", "")
    loc = err.get("loc", ())
    if kind == "extra_forbidden":
        return f"Unknown field {_shown(str(loc[-1]))!r}."
    if kind == "missing":
        return "This field is required."
    if kind in ("int_type", "int_parsing"):
        if loc and loc[0] == "path":
            return "Must be a whole number."
        return "Must be a whole number (a JSON integer)."
    if kind in ("less_than_equal", "greater_than_equal"):
        return f"Must be an id from 1 to {MAX_ID}."
    if kind == "string_type":
        return "Must be text (a JSON string)."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "Must be a JSON object."
    if kind == "literal_error":
        return "Not one of the allowed values."
    return str(err.get("msg", "Invalid."))  # pydantic's words never quote the input


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errs = list(exc.errors())
    bad_json = [e for e in errs if e.get("type") == "json_invalid"]
    if bad_json:
        why = str((bad_json[0].get("ctx") or {}).get("error", "")) or "JSON decode error"
        return problem(400, f"The body is not valid JSON: {_shown(why, 120)}.")
    errors = [{"field": _field_of(e.get("loc", ())), "message": _message(e)} for e in errs[:50]]
    first = errors[0] if errors else {"field": "body", "message": "Invalid."}
    return problem(422, f"{first['field']}: {first['message']}", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is no {_shown(request.url.path, 120)} in this API."
    if exc.status_code == 400 and "parsing the body" in detail:
        detail = "The body is not valid JSON (it is not UTF-8 text)."
    return problem(exc.status_code, detail, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged for the operator; the caller gets no stack trace.
    log.error("unexpected error on %s %s: %r", request.method, request.url.path, exc)
    return problem(500, "Something went wrong on the server; it has been logged.")


# -- the application ----------------------------------------------------------------


def telemetry(environ: Mapping[str, str] = os.environ) -> dict[str, bool] | None:
    """FastAPI's own OpenTelemetry (traces, metrics, logs of every request): as
    FastAPI does it (None) when the environment configures OpenTelemetry (any
    ``OTEL_`` variable, e.g. ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
    ``OTEL_SERVICE_NAME``, or ``FASTAPI_OTEL_AUTO_CONFIGURE``); off otherwise.
    Left on, FastAPI asks at every request whether a provider was configured
    meanwhile: some 13 µs of a ping's 120 in one process, for nothing."""
    if any(k.startswith("OTEL_") for k in environ) or "FASTAPI_OTEL_AUTO_CONFIGURE" in environ:
        return None
    return {"tracing": False, "metrics": False, "logs": False}


def create_app(
    store: Store, *, rate_limit: int = apiaccess.RATE_LIMIT, log_interval_s: float = 0.2
) -> FastAPI:
    """The API over ``store`` (already prepared)."""
    request_log = RequestLog(store, interval_s=log_interval_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pruner = asyncio.create_task(_prune_now_and_then(store))
        try:
            yield
        finally:
            pruner.cancel()
            # Uvicorn stops here after the requests in flight finished: write their log.
            await to_thread.run_sync(request_log.close)

    app = FastAPI(
        title="integrations-admin integration API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={},
        telemetry=telemetry(),
    )
    app.state.request_log = request_log
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(Gate, store=store, request_log=request_log, rate_limit=rate_limit)

    @app.get(
        "/v1/ping",
        response_class=Response,  # the same two bytes every time: no model to serialize
        responses={200: {"model": schemas.Empty, "description": "`{}`"}, **COMMON},
        tags=["ping"],
    )
    async def ping() -> Response:
        """`{}` for a valid token: the cheapest check that a token works."""
        return Response(b"{}", media_type="application/json")

    @app.get(
        "/v1/blueprints",
        response_model=schemas.BlueprintList,
        responses=COMMON,
        tags=["blueprints"],
    )
    def list_blueprints(request: Request) -> schemas.BlueprintList:
        """This integration's blueprints, with their fields."""
        found = apiaccess.blueprints_for(store, _caller(request))
        return schemas.BlueprintList(data=[_blueprint(b) for b in found])

    @app.get(
        "/v1/blueprints/{blueprint_id}",
        response_model=schemas.BlueprintOut,
        responses={**COMMON, **NOT_FOUND},
        tags=["blueprints"],
    )
    def get_blueprint(request: Request, blueprint_id: BlueprintId) -> schemas.BlueprintOut:
        """One of this integration's blueprints, with its fields."""
        return _blueprint(apiaccess.blueprint_for(store, _caller(request), blueprint_id))

    @app.get(
        "/v1/playbooks", response_model=schemas.PlaybookList, responses=COMMON, tags=["playbooks"]
    )
    def list_playbooks(request: Request) -> schemas.PlaybookList:
        """The playbooks connected to this integration's blueprints: their data
        fields and the mappings from this integration's fields."""
        found = apiaccess.playbooks_for(store, _caller(request))
        return schemas.PlaybookList(data=[_playbook(p) for p in found])

    @app.post(
        "/v1/contracts",
        status_code=201,
        response_model=schemas.ContractOut,
        responses={**COMMON, **BAD_JSON, **NOT_FOUND},
        tags=["contracts"],
    )
    def create_contract(request: Request, body: schemas.ContractCreate) -> Response:
        """A draft contract from a playbook connected to this integration's
        blueprints. `values` are keyed by blueprint field name or id; each goes to
        the data field the playbook maps it to. Every *mapping required* field
        needs a value; values for fields that are not mapped are refused; data
        fields that receive nothing take their default."""
        made = contracts.create(
            store,
            _caller(request),
            playbook_id=body.playbook_id,
            name=body.name,
            values=body.values,
        )
        return _contract(made, 201)

    @app.get(
        "/v1/contracts/{contract_id}",
        response_model=schemas.ContractOut,
        responses={**COMMON, **NOT_FOUND},
        tags=["contracts"],
    )
    def get_contract(request: Request, contract_id: ContractId) -> Response:
        """A contract this integration created, each data field's value and source."""
        return _contract(contracts.get_for_caller(store, _caller(request), contract_id))

    @app.patch(
        "/v1/contracts/{contract_id}",
        response_model=schemas.ContractOut,
        responses={**COMMON, **BAD_JSON, **NOT_FOUND, **CONFLICT},
        tags=["contracts"],
    )
    def patch_contract(
        request: Request, contract_id: ContractId, body: schemas.ContractPatch
    ) -> Response:
        """Change the name or values of a draft or published contract (the rules
        of creation; values not given keep theirs)."""
        return _contract(
            contracts.update(
                store, _caller(request), contract_id, name=body.name, values=body.values
            )
        )

    def _transition(action: str, doc: str) -> None:
        step = getattr(contracts, action)

        def run(request: Request, contract_id: ContractId) -> Response:
            return _contract(step(store, _caller(request), contract_id))

        run.__doc__ = doc
        run.__name__ = f"{action}_contract"
        app.post(
            f"/v1/contracts/{{contract_id}}/{action}",
            response_model=schemas.ContractOut,
            responses={**COMMON, **NOT_FOUND, **CONFLICT},
            tags=["contracts"],
        )(run)

    _transition("publish", "draft → published.")
    _transition("sign", "published → signed.")
    _transition("decline", "published → declined.")

    _document_security(app)
    return app


def _document_security(app: FastAPI) -> None:
    """The two ways to send a token, in the OpenAPI schema (the gate checks them)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = plain()
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "The API token"},
            "oneflowToken": {"type": "apiKey", "in": "header", "name": "X-Oneflow-API-Token"},
        }
        for path, ops in schema.get("paths", {}).items():
            if path.startswith("/v1/"):
                for op in ops.values():
                    op["security"] = [{"bearer": []}, {"oneflowToken": []}]
                    # FastAPI's own 422 schema is replaced by ours.
                    op.get("responses", {}).get("422", {}).setdefault("description", "Invalid")
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _prune_now_and_then(store: Store) -> None:
    """Old request-log entries go with the account's retention, hourly."""
    while True:
        try:
            await to_thread.run_sync(apiaccess.prune, store)
        except DomainError as exc:
            log.warning("could not prune the API request log: %s", exc)
        await asyncio.sleep(PRUNE_EVERY_S)


def rate_limit() -> int:
    """2000, unless INTEGRATIONS_ADMIN_API_RATE_LIMIT says otherwise (for the
    benchmark, which would otherwise stop after a second)."""
    return int(os.environ.get(RATE_LIMIT_ENV) or apiaccess.RATE_LIMIT)


def from_environment() -> FastAPI:
    """The app for a uvicorn worker (``serve --workers N``): the database of
    ``INTEGRATIONS_ADMIN_DB``."""
    store = Store(os.environ.get("INTEGRATIONS_ADMIN_DB") or None, create=False)
    store.prepare()
    return create_app(store, rate_limit=rate_limit())
