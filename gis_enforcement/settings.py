"""Settings, read from the environment (prefix ``GISE_``) at start-up — never at import time.

``DATABASE_URL`` (no prefix) is honoured as the conventional name; when it is unset the project runs its own
PostGIS cluster under ``data_dir``.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: the district's time zone when none is configured (``GISE_TIMEZONE``)
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    """Every tunable of the platform in one place; built by the app factory or the CLI."""

    model_config = SettingsConfigDict(env_prefix="GISE_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GISE_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / ".gise")
    pg_bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    pg_port: int = 54329
    pg_os_user: str = "postgres"

    boundaries_dir: Path = PROJECT_ROOT / "data" / "boundaries"
    catalog_path: Path = PROJECT_ROOT / "data" / "catalog" / "pinggu.yaml"
    calendar_path: Path = PROJECT_ROOT / "data" / "calendar" / "cn_workdays.yaml"
    maps_dir: Path = Field(default_factory=lambda: Path.cwd() / "maps")

    timezone: str = DEFAULT_TIMEZONE  # the district's zone: calendar periods, naive times, every time shown
    grid_size_m: float = 500.0
    near_border_min_m: float = 50.0

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_workers: int = Field(default=1, ge=1)  # `serve` processes sharing the port (each with the sizes below)
    # serving, sized together (checked below): the threads that run synchronous routes and dependencies, the
    # database connections they share (each thread holds at most one, the background passes need a couple
    # more), and how long a request waits for a connection before it is answered 503 with Retry-After
    api_threads: int = Field(default=16, ge=1)
    db_pool_size: int = Field(default=16, ge=1)
    db_max_overflow: int = Field(default=4, ge=0)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    # intake requests worked on at once; one more is answered 503 with Retry-After straight away instead of
    # queueing behind them (reads keep the other threads)
    intake_max_in_flight: int = Field(default=8, ge=1)
    # single-Feature submissions waiting in or taken by a process's intake queue (api.intake_queue, no thread of
    # the pool each); one more is answered 503 with Retry-After. At ~3 ms a submission, 64 is ~0.2 s of work
    intake_queue_limit: int = Field(default=64, ge=1)
    max_batch_features: int = 100_000
    tick_interval_s: float = 60.0  # escalation pass inside `serve`; 0 disables it
    delivery_interval_s: float = 5.0  # webhook delivery pass inside `serve`; 0 disables it
    webhook_timeout_s: float = 10.0
    basemap: str = "none"  # maps: none (offline), osm, tianditu, amap, xyz:<template|dir>, mbtiles:<file>
    tianditu_token: str | None = None
    # sign-in: access tokens are short-lived, refresh tokens are spent once; the signing secret is read from
    # GISE_JWT_SECRET or kept in DATA_DIR/jwt_secret (created on first use, readable by its owner only)
    jwt_secret: str | None = None
    access_token_minutes: float = 15.0
    refresh_token_hours: float = 12.0
    # a server remembers an API key it proved for this long (one database read per key per interval, which
    # also records the key's last use); a revoked key or a disabled user is refused at the latest this late
    api_key_cache_s: float = Field(default=30.0, ge=0)
    login_attempts_per_minute: int = 10  # per user name and per client address
    intake_requests_per_minute: int = 600  # per caller
    max_request_bytes: int = 64_000_000  # any request body; bigger is refused (413) before it is read in full
    photo_max_bytes: int = 15_000_000  # a phone's full-size JPEG fits; bigger uploads are refused (413)
    photo_max_pixels: int = 60_000_000  # decompression bombs are refused before decoding

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """A zone the zone database knows (``Asia/Shanghai``, ``Asia/Urumqi``…): refused at start-up, not at the
        first period or map that needs it."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; give an IANA name such as Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _sized_together(self) -> Settings:
        if self.api_threads > self.db_pool_size + self.db_max_overflow:
            raise ValueError(f"api_threads ({self.api_threads}) must not exceed db_pool_size + db_max_overflow "
                             f"({self.db_pool_size + self.db_max_overflow}): a thread would wait for a connection")
        if self.intake_max_in_flight > self.api_threads:
            raise ValueError(f"intake_max_in_flight ({self.intake_max_in_flight}) must not exceed api_threads "
                             f"({self.api_threads}): admitted intake requests would wait for a thread")
        return self

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def cluster_dir(self) -> Path:
        return self.data_dir / "pgdata"


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (tests, CLI options) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
