"""Settings: environment variables (``AERODROME_*``) over an optional TOML file over defaults."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
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
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
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
