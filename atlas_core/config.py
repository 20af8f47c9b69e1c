"""Settings: every knob Atlas reads, from the environment and an optional ``.env`` file.

    from atlas_core.factories import read_settings
    settings = read_settings()            # raises ConfigError naming every bad variable

A process reads them once, in its composition root (the CLI's ``main()``, the Dagster
resources, a script), and hands them down; ``load_settings`` below is what
``atlas_core.factories.read_settings`` calls.

``DATABASE_URL`` unset means the embedded PostgreSQL under ``ATLAS_HOME``. ``ENV=prod``
refuses to start without its required settings and names every missing one at once.
Secrets are ``SecretStr``: they never print in reprs, logs or errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

VaultProvider = Literal["local", "huggingface", "gcs"]
Environment = Literal["dev", "prod", "test"]

YOUTUBE_API_DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
WEBSUB_DEFAULT_HUB_URL = "https://pubsubhubbub.appspot.com/subscribe"

# What each variable must look like, used in error messages (never the value itself).
_EXPECTED: dict[str, str] = {
    "DATABASE_URL": (
        "a PostgreSQL URL such as postgresql://user:password@host:5432/atlas "
        "(or a libpq 'host=... dbname=...' string)"
    ),
    "VAULT_PROVIDER": "one of 'local', 'huggingface', 'gcs'",
    "YOUTUBE_API_KEY_POOL_JSON": 'a JSON list of API key strings, e.g. ["AIza..."]',
    "ENV": "one of 'dev', 'prod', 'test'",
    "COMPLIANCE_MODE": "true or false",
}


class ConfigError(ValueError):
    """Settings could not be loaded. The message names each variable and what was expected."""


class Settings(BaseSettings):
    """All of Atlas's configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    # Database: unset means the embedded server under ATLAS_HOME. A SecretStr because a URL
    # may carry the password; Unix-socket URLs (postgresql://u@/db?host=/run/pg) are accepted.
    DATABASE_URL: SecretStr | None = None
    DB_POOL_MIN_SIZE: int = Field(1, ge=0)
    DB_POOL_MAX_SIZE: int = Field(10, ge=1)
    DB_POOL_TIMEOUT_SECONDS: float = Field(30.0, gt=0, allow_inf_nan=False)

    # Where local state lives: the embedded database, the local vault, Dagster's home.
    ATLAS_HOME: Path = Path(".atlas")

    # Storage
    VAULT_PROVIDER: VaultProvider = "local"
    LOCAL_VAULT_PATH: Path | None = None
    HF_DATASET_ID: str | None = None
    HF_TOKEN: SecretStr | None = None
    HF_ENDPOINT: str | None = None
    GCS_BUCKET_NAME: str | None = None
    GCS_PROJECT: str | None = None
    GCS_ENDPOINT: str | None = None  # e.g. an emulator: http://127.0.0.1:9023

    # Vision: a local ONNX image model (512-d output) for the hunt's stage 1; unset = default
    VISION_MODEL_PATH: str | None = None

    # Governance
    COMPLIANCE_MODE: bool = True
    ENV: Environment = "dev"
    # Days API data may be kept unrefreshed; unset = 30 in compliance mode, no retention outside.
    RETENTION_DAYS: int | None = Field(None, ge=1)
    # Days a channel or video the API reports missing is kept before it is purged.
    MISSING_GRACE_DAYS: int = Field(7, ge=0)

    # YouTube Data API v3
    YOUTUBE_API_KEY_POOL_JSON: SecretStr | None = None
    YOUTUBE_API_BASE_URL: str = YOUTUBE_API_DEFAULT_BASE_URL
    YOUTUBE_MAX_CONCURRENCY: int = Field(4, ge=1)
    YOUTUBE_TIMEOUT_SECONDS: float = Field(20.0, gt=0, allow_inf_nan=False)
    YOUTUBE_MAX_ATTEMPTS: int = Field(5, ge=1)
    YOUTUBE_RETRY_DELAY_SECONDS: float = Field(1.0, ge=0)  # first backoff; doubles each try
    # A 429/503 asking to wait longer than this fails the call at once (YouTubeUnavailable).
    YOUTUBE_MAX_RETRY_AFTER_SECONDS: float = Field(60.0, ge=0, allow_inf_nan=False)

    # Discord webhooks, one per channel; unset means log-only.
    DISCORD_WEBHOOK_ALERTS: SecretStr | None = None
    DISCORD_WEBHOOK_HUNT: SecretStr | None = None
    DISCORD_WEBHOOK_SURVEILLANCE: SecretStr | None = None
    DISCORD_WEBHOOK_OPS: SecretStr | None = None
    DISCORD_TIMEOUT_SECONDS: float = Field(10.0, gt=0, allow_inf_nan=False)
    DISCORD_MAX_ATTEMPTS: int = Field(4, ge=1)
    DISCORD_DIGEST_THRESHOLD: int = Field(5, ge=1)
    DISCORD_DIGEST_WINDOW_SECONDS: float = Field(10.0, ge=0)
    # The alert outbox drainer (atlas_core.pipeline.alerts.deliver_alerts)
    ALERT_GIVE_UP_HOURS: float = Field(48.0, gt=0, allow_inf_nan=False)  # then an OPS event
    ALERT_RETRY_BASE_SECONDS: float = Field(60.0, gt=0, allow_inf_nan=False)  # doubles per try
    ALERT_RETRY_MAX_SECONDS: float = Field(3600.0, gt=0, allow_inf_nan=False)
    ALERT_BATCH_SIZE: int = Field(100, ge=1)
    ALERT_CLAIM_LEASE_SECONDS: float = Field(900.0, gt=0, allow_inf_nan=False)

    # Quota planning (units per Pacific day; videos.list/channels.list cost 1 unit per 50 ids)
    YOUTUBE_DAILY_UNIT_BUDGET: int = Field(10_000, ge=0)
    PLANNER_RESERVE_UNITS: int = Field(2_000, ge=0)  # kept for discovery and the hunt
    PLANNER_RETENTION_DAYS: int = Field(30, ge=7)  # capped at 30 in compliance mode
    PLANNER_FAST_VIEWS_PER_HOUR: float = Field(1_000.0, gt=0)
    # Small watchlists: every video every tick while that fits the day, and every channel's
    # uploads every tick while that fits PLANNER_RESERVE_UNITS.
    PLANNER_REFRESH_ALL_WHEN_AFFORDABLE: bool = True

    # YouTube push notifications (WebSub): new uploads trigger discovery at once, no quota.
    # WEBSUB_CALLBACK_URL is the public URL that reaches `atlas websub serve`; unset = off
    # (planned checks only). WEBSUB_SECRET signs every push (HMAC); required with a callback.
    WEBSUB_CALLBACK_URL: str | None = None
    WEBSUB_HUB_URL: str = WEBSUB_DEFAULT_HUB_URL
    WEBSUB_SECRET: SecretStr | None = None
    WEBSUB_LEASE_SECONDS: int = Field(432_000, ge=3_600)  # the hub's default: 5 days
    WEBSUB_TIMEOUT_SECONDS: float = Field(10.0, gt=0, allow_inf_nan=False)

    # Schedules, partitions and other orchestration settings live in atlas_assets.

    @field_validator("YOUTUBE_API_KEY_POOL_JSON")
    @classmethod
    def _check_key_pool(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _parse_key_pool(value.get_secret_value())
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        from psycopg.conninfo import conninfo_to_dict

        raw = value.get_secret_value()
        if "://" in raw and not raw.startswith(("postgresql://", "postgres://")):
            raise ValueError("expected " + _EXPECTED["DATABASE_URL"])
        try:
            conninfo_to_dict(raw)
        except Exception:
            raise ValueError("not parseable; expected " + _EXPECTED["DATABASE_URL"]) from None
        return value

    @field_validator(
        "DISCORD_WEBHOOK_ALERTS",
        "DISCORD_WEBHOOK_HUNT",
        "DISCORD_WEBHOOK_SURVEILLANCE",
        "DISCORD_WEBHOOK_OPS",
    )
    @classmethod
    def _check_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # blank = not configured
        if not value.get_secret_value().strip().startswith(("https://", "http://")):
            raise ValueError(
                "expected a webhook URL such as https://discord.com/api/webhooks/<id>/<token>"
            )
        return value

    @field_validator("YOUTUBE_API_BASE_URL")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as " + YOUTUBE_API_DEFAULT_BASE_URL)
        return value.rstrip("/")

    @field_validator("WEBSUB_CALLBACK_URL", "WEBSUB_HUB_URL")
    @classmethod
    def _check_websub_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            # blank: push notifications off; the hub falls back to Google's
            return WEBSUB_DEFAULT_HUB_URL if info.field_name == "WEBSUB_HUB_URL" else None
        if not value.strip().startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://atlas.example.org/websub")
        return value.strip()

    @model_validator(mode="after")
    def _check_websub(self) -> Settings:
        if self.WEBSUB_CALLBACK_URL is not None:
            if self.WEBSUB_SECRET is None or not self.WEBSUB_SECRET.get_secret_value():
                raise ValueError(
                    "WEBSUB_SECRET must be set when WEBSUB_CALLBACK_URL is: the hub signs "
                    "every push with it, so forged notifications are ignored"
                )
        return self

    @model_validator(mode="after")
    def _check_pool_sizes(self) -> Settings:
        if self.DB_POOL_MIN_SIZE > self.DB_POOL_MAX_SIZE:
            raise ValueError(
                f"DB_POOL_MIN_SIZE ({self.DB_POOL_MIN_SIZE}) must not exceed DB_POOL_MAX_SIZE "
                f"({self.DB_POOL_MAX_SIZE})"
            )
        return self

    @model_validator(mode="after")
    def _require_prod_settings(self) -> Settings:
        values = {name: getattr(self, name) for name in _PROD_NAMES}
        values["VAULT_PROVIDER"] = (
            self.VAULT_PROVIDER if "VAULT_PROVIDER" in self.model_fields_set else None
        )
        missing = prod_missing(values)
        if missing:
            raise ValueError(_PROD_MESSAGE + ", ".join(missing))
        return self

    @property
    def api_keys(self) -> list[str]:
        """The YouTube API keys to use. In compliance mode only the first one."""
        if self.YOUTUBE_API_KEY_POOL_JSON is None:
            return []
        keys = _parse_key_pool(self.YOUTUBE_API_KEY_POOL_JSON.get_secret_value())
        return keys[:1] if self.COMPLIANCE_MODE else keys

    @property
    def retention_days(self) -> int | None:
        """The retention window in days: RETENTION_DAYS, else 30 in compliance mode, else None."""
        if self.RETENTION_DAYS is not None:
            return self.RETENTION_DAYS
        return 30 if self.COMPLIANCE_MODE else None

    @property
    def vault_path(self) -> Path:
        """Root folder of the local vault."""
        return self.LOCAL_VAULT_PATH or self.ATLAS_HOME / "vault"

    @property
    def discord_webhooks(self) -> dict[str, SecretStr | None]:
        """Webhook per AlertChannel value (alerts, hunt, surveillance, ops)."""
        return {channel: getattr(self, name) for channel, name in WEBHOOK_SETTINGS.items()}


# AlertChannel value -> the setting holding its Discord webhook.
WEBHOOK_SETTINGS: dict[str, str] = {
    "alerts": "DISCORD_WEBHOOK_ALERTS",
    "hunt": "DISCORD_WEBHOOK_HUNT",
    "surveillance": "DISCORD_WEBHOOK_SURVEILLANCE",
    "ops": "DISCORD_WEBHOOK_OPS",
}

_PROD_NAMES = (
    "ENV",
    "DATABASE_URL",
    "YOUTUBE_API_KEY_POOL_JSON",
    "VAULT_PROVIDER",
    "HF_DATASET_ID",
    "HF_TOKEN",
    "GCS_BUCKET_NAME",
    "LOCAL_VAULT_PATH",
)
_PROD_MESSAGE = "ENV=prod requires these settings, which are missing: "


def prod_missing(values: dict[str, Any]) -> list[str]:
    """Names of the settings ENV=prod requires that ``values`` lacks (None or empty)."""
    if values.get("ENV") != "prod":
        return []
    needed = ["DATABASE_URL", "YOUTUBE_API_KEY_POOL_JSON", "VAULT_PROVIDER"]
    needed += {
        "huggingface": ["HF_DATASET_ID", "HF_TOKEN"],
        "gcs": ["GCS_BUCKET_NAME"],
        "local": ["LOCAL_VAULT_PATH"],
    }.get(str(values.get("VAULT_PROVIDER")), [])
    return [name for name in needed if values.get(name) in (None, "")]


class _Presence(BaseSettings):
    """The raw values of the prod-required settings, read like Settings but never invalid."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )
    ENV: Any = None
    DATABASE_URL: Any = None
    YOUTUBE_API_KEY_POOL_JSON: Any = None
    VAULT_PROVIDER: Any = None
    HF_DATASET_ID: Any = None
    HF_TOKEN: Any = None
    GCS_BUCKET_NAME: Any = None
    LOCAL_VAULT_PATH: Any = None


def _parse_key_pool(raw: str) -> list[str]:
    try:
        keys = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON (line {exc.lineno} column {exc.colno}); expected "
            + _EXPECTED["YOUTUBE_API_KEY_POOL_JSON"]
        ) from None
    if not isinstance(keys, list) or not keys:
        raise ValueError("expected " + _EXPECTED["YOUTUBE_API_KEY_POOL_JSON"])
    if not all(isinstance(k, str) and k.strip() for k in keys):
        raise ValueError(
            "every key must be a non-empty string; expected "
            + _EXPECTED["YOUTUBE_API_KEY_POOL_JSON"]
        )
    return [k.strip() for k in keys]


def _describe(error: Any) -> str:
    """One line for one pydantic error, without the offending value (it may be a secret)."""
    loc = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc:
        return msg
    expected = _EXPECTED.get(loc)
    if expected and expected not in msg:
        return f"{loc}: {msg} (expected {expected})"
    return f"{loc}: {msg}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and ``.env``), with keyword overrides.

    Raises :class:`ConfigError` listing every problem, never echoing a value.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors(include_input=False, include_url=False)]
    if not any(p.startswith(_PROD_MESSAGE) for p in problems):
        # Field errors stop the prod check from running: name the missing settings too.
        raw = _Presence(
            **{k: v for k, v in overrides.items() if k in _PROD_NAMES or k == "_env_file"}
        )
        missing = prod_missing(raw.model_dump())
        if missing:
            problems.insert(0, _PROD_MESSAGE + ", ".join(missing))
    raise ConfigError("invalid Atlas settings:\n  - " + "\n  - ".join(problems))
