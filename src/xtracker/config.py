"""Settings from the environment (``XTRACKER_*``) and ``.env``; no import-time globals."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class DatabaseURL:
    """One user-facing database URL, and the driver URLs we derive from it."""

    dialect: str  # "sqlite" | "postgresql"
    sqlite_path: Path | None
    pg_dsn: str | None

    @property
    def sqlalchemy_url(self) -> str:
        if self.dialect == "sqlite":
            return f"sqlite+aiosqlite:///{self.sqlite_path}"
        assert self.pg_dsn is not None
        return "postgresql+asyncpg://" + self.pg_dsn.split("://", 1)[1]

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def parse_database_url(url: str) -> DatabaseURL:
    """Accept plain ``sqlite:///path`` or ``postgresql://user@host/db``; drivers are ours."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise ValueError("sqlite URL needs a file path: sqlite:///path/to/xtracker.db")
        return DatabaseURL("sqlite", Path("/" + path if rest.startswith("//") else path), None)
    if base in ("postgresql", "postgres"):
        parts = urlsplit("postgresql://" + rest)
        return DatabaseURL("postgresql", None, urlunsplit(parts))
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XTRACKER_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    secret_key: str | None = Field(
        default=None, description="Key for secrets at rest and sessions; generated in data_dir"
    )
    public_url: str = "http://127.0.0.1:8000"
    key_grace_hours: float = 24.0
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 1000
    trusted_proxies: list[str] = Field(default_factory=list)
    geoip_mmdb: Path | None = None
    meta_graph_url: str = "https://graph.facebook.com"
    meta_api_version: str = "v21.0"
    telegram_api_url: str = "https://api.telegram.org"
    telegram_invite_pool_depth: int = Field(default=20, ge=0, le=500)
    telegram_refill_pause_ms: int = Field(default=300, ge=0)  # between createChatInviteLink calls
    telegram_poll_timeout_s: int = Field(default=25, ge=0, le=50)
    allow_private_targets: bool = False
    origin_host: str = "tracker.example.com"
    # custom landing domains: see docs/custom-domains.md
    own_hosts: list[str] = Field(default_factory=list)  # more names of the tracker itself
    dns_resolver: str | None = None  # resolver address; None = the system's (resolv.conf)
    dns_resolver_port: int = 53
    dns_timeout_s: float = 5.0
    domain_check_interval_s: float = 3600.0
    domain_grace_days: float = 7.0  # a failing domain keeps serving this long
    # monitoring: see docs/playbook-realtime-monitoring.md
    alert_eval_interval_s: float = 60.0
    run_worker_in_serve: bool = True
    log_level: str = "info"
    log_format: str = Field(default="text", pattern="^(text|json)$")
    click_retention_days: int = Field(default=0, ge=0)  # 0 keeps raw clicks forever
    attempt_retention_days: int = Field(default=90, ge=0)  # delivery attempts; 0 = forever
    # delivery (outbox worker): see docs/destinations.md
    delivery_concurrency: int = 64  # requests in flight per worker process
    delivery_per_host: int = 16  # … and at most this many to one receiver (be gentle)
    delivery_batch: int = 500  # rows claimed per query
    delivery_poll_ms: int = 250  # how often an idle worker looks for due rows
    delivery_lease_s: float = 60.0  # a claimed row returns to the queue after this
    delivery_timeout_s: float = 15.0  # per request
    delivery_first_retry_s: float = 30.0
    delivery_max_backoff_s: float = 6 * 3600.0
    delivery_max_attempts: int = 21  # ≈ 3 days with the schedule above
    delivery_circuit_threshold: int = 10  # consecutive transient failures that open it
    delivery_circuit_open_s: float = 30.0  # first pause; doubles up to 10 minutes
    delivery_no_delays: bool = False  # tests: retries and circuit pauses are due at once
    # dashboard sessions: None = Secure cookies when served over https (or public_url is https)
    cookie_secure: bool | None = None
    session_ttl_hours: float = 24.0 * 14

    @field_validator("trusted_proxies", "own_hosts", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str) and not value.startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @cached_property
    def database(self) -> DatabaseURL:
        url = self.database_url or f"sqlite:///{(self.data_dir / 'xtracker.db').resolve()}"
        return parse_database_url(url)

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(cidr, strict=False) for cidr in self.trusted_proxies)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
