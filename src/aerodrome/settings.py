"""Settings: environment variables (``AERODROME_*``) over an optional TOML file over defaults."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_FILE_ENV = "AERODROME_CONFIG"


class SettingsError(Exception):
    """A configuration value is invalid; the message says which and why."""


class Settings(BaseSettings):
    """Every knob of the service, validated when the process starts."""

    model_config = SettingsConfigDict(env_prefix="AERODROME_", extra="forbid")

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite in the data directory.",
    )
    data_dir: Path = Field(default=Path("var"), description="Local files and the SQLite database.")
    admin_password: SecretStr | None = Field(
        default=None, description="Password of the first admin user, used on an empty database."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="Database connections per worker process."
    )
    # The pool closes an overflow connection as soon as it is handed back, so under a steady
    # load above the pool size every extra request paid for a new database session (a
    # PostgreSQL backend fork): 744 → 872 req/s on the components list when set to 0.
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        le=200,
        description="Extra connections opened under load and closed when handed back.",
    )
    max_request_size: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest JSON request body, in bytes."
    )
    public_reads: bool = Field(
        default=False, description="Let anonymous callers read public (team-less) resources."
    )
    hmac_max_clock_skew: int = Field(default=900, ge=1, description="Seconds of allowed skew.")
    credential_cache_seconds: int = Field(
        default=600, ge=0, description="How long a verified Basic credential is remembered."
    )
    response_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description=(
            "Memory per worker process for GET answers kept until a table they were read from "
            "changes; 0 keeps none."
        ),
    )
    opentelemetry: bool = Field(
        default=False,
        description=(
            "Let FastAPI report to an OpenTelemetry SDK set up in the process "
            "(opentelemetry-instrument); when on, it looks for one on every request."
        ),
    )
    deis_checkin_max_bytes: int = Field(
        default=64 * 1024,
        ge=256,
        le=10 * 1024 * 1024,
        description="Largest Deis cluster check-in body (sent without credentials), in bytes.",
    )
    deis_checkins_per_minute: int = Field(
        default=60,
        ge=0,
        description="Deis check-ins accepted per source address per minute; 0 means no limit.",
    )
    oauth_timestamp_window: int = Field(
        default=600,
        ge=10,
        le=86400,
        description="Seconds an OAuth 1.0a stats submission's timestamp may differ from now; "
        "its nonce is kept twice as long.",
    )
    nonce_cleanup_seconds: float = Field(
        default=86400,
        gt=0,
        description="How often the server removes expired OAuth nonces (daily by default).",
    )
    stats_seal_seconds: float = Field(
        default=60,
        gt=0,
        description="How often each server process looks for stats days to seal "
        "(docs/decisions/0010-sealed-stats-days.md).",
    )
    max_file_size: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=1,
        description="Largest uploaded file (POST /files, component files), in bytes; 413 beyond.",
    )
    storage_backend: Literal["filesystem", "s3"] = Field(
        default="filesystem",
        description="Where file contents go: `filesystem` (under data_dir/files) or `s3`.",
    )
    s3_endpoint_url: str = Field(
        default="",
        description="Endpoint of the S3-compatible store; empty means AWS's own for the region.",
    )
    s3_bucket: str = Field(default="", description="Bucket of file contents (storage_backend=s3).")
    s3_access_key: str = Field(default="", description="Access key id of the S3 store.")
    s3_secret_key: SecretStr | None = Field(default=None, description="Secret key of the S3 store.")
    s3_region: str = Field(default="us-east-1", description="Region of the S3 store.")
    paddles_public: bool = Field(
        default=False,
        description="Let anonymous callers read the paddles façade (runs, jobs, nodes, queues).",
    )
    paddles_anonymous_writes: bool = Field(
        default=False,
        description="Accept paddles writes without credentials: only on a trusted network.",
    )
    job_dead_after_seconds: int = Field(
        default=1800,
        ge=1,
        description="A running, waiting or unknown paddles job silent this long becomes dead.",
    )
    queued_dead_after_seconds: int = Field(
        default=14 * 24 * 3600,
        ge=1,
        description="A queued paddles job not updated for this long becomes dead.",
    )
    requeue_lapsed_claims: int = Field(
        default=0,
        ge=0,
        le=100,
        description=(
            "How many times a job claimed from a queue goes back to it when its worker falls"
            " silent (the claim's lease is job_dead_after_seconds); after that, or with 0,"
            " the job becomes dead."
        ),
    )
    expiry_interval_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="How often each process looks for silent jobs to mark dead.",
    )

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("storage_backend 's3' needs s3_bucket")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            if value.startswith(("postgresql://", "postgres://")):
                return "postgresql+asyncpg://" + value.split("://", 1)[1]
            if value.startswith("sqlite://"):
                return "sqlite+aiosqlite://" + value.split("://", 1)[1]
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @property
    def effective_database_url(self) -> str:
        """The URL actually used: the configured one, else SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'aerodrome.db').resolve()}"

    @property
    def hmac_max_clock_skew_delta(self) -> timedelta:
        return timedelta(seconds=self.hmac_max_clock_skew)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    def masked(self) -> dict[str, Any]:
        """The effective settings with every secret replaced by ``********``."""
        shown = self.model_dump(mode="json")
        shown["database_url"] = _mask_url_password(self.effective_database_url)
        for name, value in shown.items():
            if isinstance(getattr(self, name), SecretStr) and value is not None:
                shown[name] = "********"
        return shown


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the file named by ``AERODROME_CONFIG``, flat keys or an ``[aerodrome]`` table."""

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        try:
            with open(path, "rb") as handle:
                content = tomllib.load(handle)
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
        table = content.get("aerodrome", content)
        return table if isinstance(table, dict) else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns everything at once


def _mask_url_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    masked = f"{user}:********" if ":" in credentials else user
    return f"{scheme}{sep}{masked}@{host}"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning pydantic's error into one readable message per bad value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from exc
