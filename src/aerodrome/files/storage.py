"""Blob stores for file contents: the local filesystem (default) and any S3-compatible store.

A store is handed a key and an async stream of blocks and makes the content visible under that
key only once all of it is safely stored: the filesystem writes a temporary file, fsyncs it,
checks its size and renames it; S3 makes an object (or a multipart upload) visible only when it
completes. Reads stream block by block; nothing is ever held whole in memory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from aerodrome.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BLOCK_SIZE = 1024 * 1024
# S3 parts must be at least 5 MiB (but the last); bigger parts mean fewer round trips.
S3_PART_SIZE = 8 * 1024 * 1024


class StorageError(Exception):
    """The store failed or returned something other than what was written."""


class Storage(Protocol):
    async def save(self, key: str, blocks: AsyncIterable[bytes]) -> int:
        """Store the stream under `key`, visible only once complete; the number of bytes."""

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The content under `key`, block by block."""

    async def delete(self, key: str) -> None:
        """Remove the content under `key`; a missing key is not an error."""


class FilesystemStorage:
    """Contents under `<data_dir>/files/<2 hex digits>/<key>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / ".incoming"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    async def save(self, key: str, blocks: AsyncIterable[bytes]) -> int:
        await anyio.to_thread.run_sync(_make_dirs, self.incoming)
        temporary = self.incoming / f"{key}.{uuid.uuid4().hex}.part"
        try:
            size = await _write_synced(temporary, blocks)
            await anyio.to_thread.run_sync(self._publish, temporary, key, size)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_unlink, temporary)
            raise
        return size

    def _publish(self, temporary: Path, key: str, size: int) -> None:
        stored = temporary.stat().st_size
        if stored != size:
            raise StorageError(f"wrote {size} bytes but {stored} are on disk")
        final = self.path(key)
        _make_dirs(final.parent)
        os.replace(temporary, final)
        _fsync_directory(final.parent)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            handle = await anyio.open_file(self.path(key), "rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no content stored under {key}") from exc
        async with handle:
            while block := await handle.read(BLOCK_SIZE):
                yield block

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(_unlink, self.path(key))


async def _write_synced(path: Path, blocks: AsyncIterable[bytes]) -> int:
    size = 0
    async with await anyio.open_file(path, "xb") as handle:
        async for block in blocks:
            await handle.write(block)
            size += len(block)
        await handle.flush()
        await anyio.to_thread.run_sync(os.fsync, handle.wrapped.fileno())
    return size


def _make_dirs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def _fsync_directory(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class S3Storage:
    """Objects `<key>` in one bucket; boto3's blocking calls run in worker threads."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            aws_access_key_id=settings.s3_access_key or None,
            aws_secret_access_key=secret,
            region_name=settings.s3_region,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )
        return cls(client, settings.s3_bucket)

    async def save(self, key: str, blocks: AsyncIterable[bytes]) -> int:
        upload = _MultipartUpload(self.client, self.bucket, key)
        buffer = bytearray()
        size = 0
        try:
            async for block in blocks:
                buffer += block
                size += len(block)
                while len(buffer) >= S3_PART_SIZE:
                    await upload.send(bytes(buffer[:S3_PART_SIZE]))
                    del buffer[:S3_PART_SIZE]
            await upload.finish(bytes(buffer))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await upload.abort()
            raise
        return size

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            found = await anyio.to_thread.run_sync(
                lambda: self.client.get_object(Bucket=self.bucket, Key=key)
            )
        except ClientError as exc:
            raise StorageError(f"no content stored under {key}: {exc}") from exc
        body = found["Body"]
        try:
            while block := await anyio.to_thread.run_sync(body.read, BLOCK_SIZE):
                yield block
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=key)
        )


class _MultipartUpload:
    """One object written part by part; a short content is a single PUT instead."""

    def __init__(self, client: S3Client, bucket: str, key: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    async def send(self, part: bytes) -> None:
        if self.upload_id is None:
            created = await anyio.to_thread.run_sync(
                lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key)
            )
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        upload_id = self.upload_id
        sent = await anyio.to_thread.run_sync(
            lambda: self.client.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=upload_id, PartNumber=number, Body=part
            )
        )
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})

    async def finish(self, rest: bytes) -> None:
        if self.upload_id is None:
            await anyio.to_thread.run_sync(
                lambda: self.client.put_object(Bucket=self.bucket, Key=self.key, Body=rest)
            )
            return
        if rest:
            await self.send(rest)
        upload_id, parts = self.upload_id, self.parts
        await anyio.to_thread.run_sync(
            lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        )

    async def abort(self) -> None:
        if self.upload_id is None:
            return
        upload_id = self.upload_id
        await anyio.to_thread.run_sync(
            lambda: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=upload_id
            )
        )


def build_storage(settings: Settings) -> Storage:
    """The store the settings name."""
    if settings.storage_backend == "s3":
        return S3Storage.from_settings(settings)
    return FilesystemStorage(settings.data_dir / "files")
