"""File routes: `/files` (upload, list, show, content, delete, purge), `/jobs/<id>/files` and
`/components/<id>/files[/<fid>[/content]]`.

An upload is not one long transaction: the caller and the owner are checked first (reads, no
lock held), the body streams to the store, and only then one short unit of work records the
file and its results. A failure at any step removes the stored content again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from aerodrome.api import API_PREFIX
from aerodrome.api import deps as api_deps
from aerodrome.api.crud import ERRORS, envelope, list_model, read_model
from aerodrome.api.deps import Caller, DbSession, IfMatch, OptionalIfMatch, Reader
from aerodrome.api.listing import check_parameters, parse_embed, parse_list_query
from aerodrome.api.responses import item_response, list_response
from aerodrome.api.routing import Route
from aerodrome.db.session import Database
from aerodrome.errors import InvalidInput, Unauthorized
from aerodrome.files import service
from aerodrome.files.errors import ContentMissing, PayloadTooLarge
from aerodrome.files.resource import FILES
from aerodrome.files.storage import Storage, StorageError, build_storage
from aerodrome.files.upload import Received, receive
from aerodrome.identity import service as identity_service
from aerodrome.identity.principal import Identity
from aerodrome.identity.signature import (
    SignatureClaim,
    SignatureError,
    parse_signature_claim,
    verify_upload_signature,
)
from aerodrome.results.parsers import ParseError, parser_for
from aerodrome.settings import Settings

router = APIRouter(prefix=API_PREFIX, tags=["files"], route_class=Route)

FILE_MODEL = read_model(FILES)
ONE_FILE = {200: {"model": envelope("file", FILE_MODEL)}, **ERRORS}
CREATED = {
    201: {"model": envelope("file", FILE_MODEL)},
    **ERRORS,
    413: {"model": ERRORS[400]["model"], "description": "Larger than max_file_size"},
}
MANY_FILES = {200: {"model": list_model(FILES, FILE_MODEL)}, **ERRORS}
RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
CONTENT = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The file's content",
    },
    **ERRORS,
}
NAME_MAX = 512


def storage_of(request: Request) -> Storage:
    """The app's store, built on first use from its settings."""
    state = request.app.state
    if getattr(state, "file_storage", None) is None:
        state.file_storage = build_storage(state.settings)
    stored: Storage = state.file_storage
    return stored


class _Uploader:
    """Who uploads. A signed (HMAC) request is verified once its body's sha256 is known."""

    def __init__(self, identity: Identity, claim: SignatureClaim | None, secret: str) -> None:
        self.identity = identity
        self.claim = claim
        self.secret = secret

    def verify(self, request: Request, received: Received) -> None:
        if self.claim is None:
            return
        settings: Settings = request.app.state.settings
        try:
            verify_upload_signature(
                self.claim,
                method=request.method,
                path=request.scope["raw_path"].decode("latin-1"),
                query_string=request.scope["query_string"].decode("latin-1"),
                headers=request.headers,
                body_sha256=received.sha256,
                secret=self.secret,
                max_skew=settings.hmac_max_clock_skew_delta,
            )
        except SignatureError as exc:
            raise Unauthorized(f"invalid signature: {exc}") from exc


async def _uploader(request: Request, session: AsyncSession) -> _Uploader:
    try:
        claim = parse_signature_claim(request.headers)
        if claim is None:  # Basic or bearer: nothing to do with the body
            identity = await api_deps.resolve_identity(request, session)
            if not identity.is_authenticated:
                raise Unauthorized("authentication required")
            return _Uploader(identity, None, "")
        identity, secret = await identity_service.load_agent(
            session, request.app.state.known_identities, claim.client_type, claim.client_id
        )
    except SignatureError as exc:
        raise Unauthorized(f"invalid signature: {exc}") from exc
    return _Uploader(identity, claim, secret)


def _check_declared_size(request: Request) -> int:
    limit: int = request.app.state.settings.max_file_size
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"file larger than {limit} bytes", payload={"max_file_size": limit})
    return limit


def _file_name(name: str | None) -> str:
    if not name or not name.strip():
        raise InvalidInput("a DCI-NAME header naming the file is required")
    if len(name) > NAME_MAX or "\x00" in name:
        raise InvalidInput(f"DCI-NAME must be at most {NAME_MAX} characters, without NUL")
    return name


def _mime(mime: str | None) -> str:
    # Content-Type is no guide: the JSON middleware fills in application/json when absent.
    chosen = (mime or "application/octet-stream").strip()
    if len(chosen) > 255 or "\x00" in chosen:
        raise InvalidInput("DCI-MIME must be at most 255 characters")
    return chosen


async def _store(
    request: Request, uploader: _Uploader, owner: service.Owner, *, name: str, mime: str
) -> dict[str, Any]:
    """Stream the body to the store, verify a signature against it, record the file."""
    limit = _check_declared_size(request)
    database: Database = request.app.state.database
    storage = storage_of(request)
    file_id = uuid.uuid4()
    parser = parser_for(mime) if owner.job is not None else None
    try:
        received = await receive(request.stream(), storage, file_id.hex, limit=limit, parser=parser)
    except ParseError as exc:
        raise InvalidInput(str(exc)) from exc
    try:
        uploader.verify(request, received)
        async with database.unit_of_work() as session:
            return await service.record(
                session, owner, file_id=file_id, name=name, mime=mime, received=received
            )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await storage.delete(file_id.hex)
        raise


@router.post(
    "/files",
    name="create_file",
    status_code=201,
    responses=CREATED,
    openapi_extra=RAW_BODY,
)
async def create_file(
    request: Request,
    dci_name: Annotated[str | None, Header(alias="DCI-NAME")] = None,
    dci_job_id: Annotated[str | None, Header(alias="DCI-JOB-ID")] = None,
    dci_jobstate_id: Annotated[str | None, Header(alias="DCI-JOBSTATE-ID")] = None,
    dci_mime: Annotated[str | None, Header(alias="DCI-MIME")] = None,
) -> Response:
    """Upload a job's file: the raw body is the content. `application/junit`,
    `application/subunit` and `application/tap` files are parsed into test results."""
    name = _file_name(dci_name)
    mime = _mime(dci_mime)
    _check_declared_size(request)
    database: Database = request.app.state.database
    async with database.unit_of_work(write=False) as session:
        uploader = await _uploader(request, session)
        owner = await service.job_owner(
            session, uploader.identity, job_id=dci_job_id, jobstate_id=dci_jobstate_id
        )
    row = await _store(request, uploader, owner, name=name, mime=mime)
    return item_response("file", row, status_code=201)


@router.post(
    "/components/{component_id}/files",
    name="create_component_file",
    status_code=201,
    responses=CREATED,
    openapi_extra=RAW_BODY,
)
async def create_component_file(
    request: Request,
    component_id: str,
    dci_name: Annotated[str | None, Header(alias="DCI-NAME")] = None,
    dci_mime: Annotated[str | None, Header(alias="DCI-MIME")] = None,
) -> Response:
    """Upload a component's file (its publishers only); the raw body is the content."""
    _check_declared_size(request)
    database: Database = request.app.state.database
    async with database.unit_of_work(write=False) as session:
        uploader = await _uploader(request, session)
        owner = await service.component_owner(session, uploader.identity, component_id)
    # dciclient's component-file-upload sends no DCI-NAME header.
    name = _file_name(dci_name or "component-file")
    row = await _store(request, uploader, owner, name=name, mime=_mime(dci_mime))
    return item_response("file", row, status_code=201)


@router.get("/files/purge", name="list_archived_files", responses=ERRORS)
async def list_archived_files(session: DbSession, identity: Caller) -> Response:
    """Archived files waiting to be purged (super admin)."""
    found = await service.list_archived(session, identity)
    return list_response("files", found, len(found))


@router.post("/files/purge", name="purge_files", status_code=204, responses=ERRORS)
async def purge_files(request: Request, session: DbSession, identity: Caller) -> Response:
    """Remove archived files for good; their contents go once the removal has committed."""
    keys = await service.purge(session, identity)
    storage = storage_of(request)

    async def delete_contents() -> None:
        for key in keys:
            await storage.delete(key)

    # The response is sent after the commit (DbSession), and background tasks after that.
    return Response(status_code=204, background=BackgroundTask(delete_contents))


@router.get("/files", name="list_files", responses=MANY_FILES)
async def list_files(request: Request, session: DbSession, identity: Reader) -> Response:
    """The files the caller may see."""
    query = parse_list_query(request.query_params, FILES)
    page = await service.list_files(session, identity, query)
    return list_response("files", page.rows, page.count)


@router.get("/files/{file_id}", name="get_file", responses=ONE_FILE)
async def get_file(
    request: Request, session: DbSession, identity: Reader, file_id: str
) -> Response:
    check_parameters(request.query_params, {"embed"})
    embeds = parse_embed(request.query_params.get("embed", ""), FILES)
    row = await service.get_file(session, identity, file_id, embeds=embeds)
    return item_response("file", FILES.public_row(row))


@router.get("/files/{file_id}/content", name="get_file_content", responses=CONTENT)
async def get_file_content(
    request: Request, session: DbSession, identity: Reader, file_id: str
) -> Response:
    """The file's content, streamed."""
    row = await service.get_file(session, identity, file_id)
    return await _content_response(request, row)


@router.delete("/files/{file_id}", name="delete_file", status_code=204, responses=ERRORS)
async def delete_file(
    session: DbSession, identity: Caller, if_match: OptionalIfMatch, file_id: str
) -> Response:
    """Archive a file; a stale If-Match is refused, a missing one is not (dcictl sends none,
    and a file's contents never change). Purge removes it and its content."""
    await service.delete_file(session, identity, file_id, if_match=if_match)
    return Response(status_code=204)


@router.get("/jobs/{job_id}/files", name="list_job_files", responses=MANY_FILES)
async def list_job_files(
    request: Request, session: DbSession, identity: Reader, job_id: str
) -> Response:
    """The files of a job the caller may see."""
    query = parse_list_query(request.query_params, FILES)
    page = await service.list_job_files(session, identity, job_id, query)
    return list_response("files", page.rows, page.count)


@router.get("/components/{component_id}/files", name="list_component_files", responses=MANY_FILES)
async def list_component_files(
    request: Request, session: DbSession, identity: Reader, component_id: str
) -> Response:
    query = parse_list_query(request.query_params, FILES)
    page = await service.list_component_files(session, identity, component_id, query)
    return list_response("files", page.rows, page.count)


@router.get(
    "/components/{component_id}/files/{file_id}", name="get_component_file", responses=ONE_FILE
)
async def get_component_file(
    session: DbSession, identity: Reader, component_id: str, file_id: str
) -> Response:
    row = await service.get_file(session, identity, file_id, component_key=component_id)
    return item_response("file", FILES.public_row(row))


@router.get(
    "/components/{component_id}/files/{file_id}/content",
    name="get_component_file_content",
    responses=CONTENT,
)
async def get_component_file_content(
    request: Request, session: DbSession, identity: Reader, component_id: str, file_id: str
) -> Response:
    row = await service.get_file(session, identity, file_id, component_key=component_id)
    return await _content_response(request, row)


@router.delete(
    "/components/{component_id}/files/{file_id}",
    name="delete_component_file",
    status_code=204,
    responses=ERRORS,
)
async def delete_component_file(
    session: DbSession, identity: Caller, if_match: IfMatch, component_id: str, file_id: str
) -> Response:
    await service.delete_file(
        session, identity, file_id, if_match=if_match, component_key=component_id
    )
    return Response(status_code=204)


async def _content_response(request: Request, row: dict[str, Any]) -> StreamingResponse:
    """The content, streamed; the first block is read before the status is sent, so that a
    store failure is an error response rather than a cut-off download."""
    blocks = storage_of(request).read(row["storage_key"])
    try:
        first = await anext(blocks, b"")
    except StorageError as exc:
        raise ContentMissing(f"the content of file {row['id']} is missing") from exc

    async def content() -> AsyncIterator[bytes]:
        yield first
        async for block in blocks:
            yield block

    return StreamingResponse(
        content(),
        media_type="application/octet-stream",
        headers={"Content-Length": str(row["size"]), "ETag": row["etag"]},
    )
