"""Application settings: one typed object read from `PALIER_*` environment variables.

`get_settings()` is cached; tests override it (FastAPI `dependency_overrides`, or
`get_settings.cache_clear()` after changing the environment).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.permissions import Role

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"

# Only acceptable in development: any other environment refuses to start with it.
DEV_SECRET_KEY = "palier-dev-only-secret-key-do-not-use-in-production"
MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PALIER_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite:///{VAR_DIR / 'palier.db'}"
    secret_key: str = DEV_SECRET_KEY
    questionnaires_dir: Path = ROOT / "questionnaires"
    # No longer used for storage (files live in the database, app/files.py); kept so that
    # existing settings files stay valid.
    evidence_dir: Path = VAR_DIR / "evidence"
    # The public address used in e-mailed and displayed links (invitations, reviews, password
    # resets). Unset in development: the address `palier serve` listens on (PALIER_HOST and
    # PALIER_PORT, set by the command). Required elsewhere.
    base_url: str = ""
    # Where `palier serve` listens (the command sets them from --host / --port).
    host: str = "127.0.0.1"
    port: int = 8000
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: IPs or
    # networks, comma-separated ("127.0.0.1", "10.0.0.0/8"), "*" for any. Default: none, the
    # client address and scheme are the connection's.
    trusted_proxies: str = ""
    # Marianne logo and bloc-marque: off for a deployment that is not a State service.
    state_marks: bool = True

    @field_validator("state_marks", mode="before")
    @classmethod
    def _french_booleans(cls, value: Any) -> Any:
        """Also accept "oui" / "non" (and an empty value: off)."""
        if isinstance(value, str) and value.strip().lower() in ("non", "oui", ""):
            return value.strip().lower() == "oui"
        return value

    session_idle_minutes: int = 60
    session_absolute_hours: int = 12
    api_token_days: int = 30
    password_reset_hours: int = 2
    # Login rate limit: failures allowed per window, per e-mail and per client IP.
    login_window_minutes: int = 15
    login_max_failures_per_email: int = 5
    login_max_failures_per_ip: int = 20
    # Second factor (app/accounts/totp.py, second_factor.py): time to type the code after
    # the password; how long a remembered device skips it (30 days at most).
    mfa_challenge_minutes: int = 10
    mfa_remember_days: int = 30

    # Structures import and invitations (app/structures, app/accounts/invitations.py).
    # FINESS categories kept by the import: a CSV with a `code` column or one code per line;
    # None: the categories of app/reference/data/finess_categories.csv.
    import_categories_file: Path | None = None
    import_max_upload_mb: int = 64
    invitation_days: int = 14

    # console: development (printed); memory: tests (app.email.outbox); smtp: the server below.
    email_backend: Literal["console", "memory", "smtp"] = "console"
    # The sender: PALIER_MAIL_FROM (or PALIER_EMAIL_FROM).
    email_from: str = Field(
        default="Palier <ne-pas-repondre@palier.invalid>",
        validation_alias=AliasChoices("PALIER_MAIL_FROM", "PALIER_EMAIL_FROM"),
    )
    smtp_host: str = "localhost"
    smtp_port: int = 587
    # none: plain SMTP (a local relay); starttls: upgrade after connecting (port 587);
    # ssl: TLS from the first byte (port 465). Certificates are verified.
    smtp_tls: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_username: str = ""  # empty: no authentication
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = 10.0

    # Jobs (app/jobs): "queue" stores them for `palier worker` (PostgreSQL only); "inline"
    # runs them in the web process; "auto": queue on PostgreSQL, inline on SQLite.
    jobs_runner: Literal["auto", "inline", "queue"] = "auto"
    jobs_max_attempts: int = Field(default=5, ge=1)  # attempts of a job failing transiently
    jobs_retry_wait_seconds: int = Field(default=10, ge=0)  # × attempts before a retry
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    # A worker silent this long is dead: its running jobs are retried (or failed).
    worker_stalled_seconds: float = Field(default=60.0, gt=0)
    # Added to `palier worker`'s CPU niceness at start: on a machine shared with web
    # processes, exports yield the CPU to the requests people wait for. 0: unchanged.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Admission lanes (app/web/lanes.py): reads one web process runs at once (writes such as
    # autosaves are never held back); 0: no bound. A read waiting longer gets 503.
    page_slots: int = Field(default=1, ge=0)
    download_slots: int = Field(default=1, ge=0)
    lane_wait_seconds: float = Field(default=30.0, gt=0)
    # PostgreSQL connections each web process keeps for the paths that talk to the database
    # from the event loop (the API's autosave, the section page): one per request in flight
    # on those paths; more wait for one (a 503 after 15 s).
    event_loop_pool_size: int = Field(default=8, ge=1, le=200)
    # Share of the wall-clock time a long background job (exports) may be active: it pauses
    # at each progress tick for the rest (app/jobs/pace.py). 1: no pause; below 1 where
    # workers share cores with web processes and PostgreSQL (docs/deploy.md).
    job_duty_cycle: float = Field(default=1.0, gt=0, le=1)
    # How long (ms) a thread may hold the interpreter before another runnable one gets it
    # (Python's default: 5): short requests wait less behind long ones.
    switch_interval_ms: float = Field(default=1.0, gt=0, le=100)
    # ProConnect (OpenID Connect sign-in, docs/proconnect.md). Off while issuer or client id
    # is empty. Redirect URIs: {public_url}/proconnect/retour and /proconnect/deconnecte.
    oidc_issuer: str = ""  # e.g. https://auth.agentconnect.gouv.fr/api/v2
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid email given_name usual_name siret"  # what Palier reads
    oidc_email_claim: str = "email"
    oidc_organisation_claim: str = "siret"  # empty: none kept
    # Roles that must sign in with ProConnect (the password form refuses them): "ars,committee".
    oidc_required_roles: str = ""
    oidc_timeout_seconds: float = 10.0
    # One-time links proving an e-mail address before an identity is attached to its account.
    oidc_link_hours: int = 2

    # Who runs the service, shown on the legal pages (mentions légales, données personnelles,
    # accessibilité): PALIER_LEGAL_OPERATOR_NAME and so on. An empty value shows a visible
    # "à compléter par l'exploitant" placeholder; `palier serve` warns about them in production.
    legal_operator_name: str = ""
    legal_operator_address: str = ""
    legal_operator_email: str = ""
    legal_publication_director: str = ""
    legal_host_name: str = ""
    legal_host_address: str = ""
    legal_host_contact: str = ""
    legal_host_location: str = ""
    legal_dpo_contact: str = ""
    legal_accessibility_contact: str = ""
    legal_statement_date: str = ""  # date of the accessibility statement, e.g. "2 décembre 2026"
    legal_site_url: str = ""

    def legal_facts(self) -> dict[str, str]:
        """The legal pages' facts that are set (keys without the `legal_` prefix)."""
        return {name.removeprefix("legal_"): value.strip()
                for name, value in self.model_dump(include=LEGAL_FIELDS).items()
                if value.strip()}

    @field_validator("oidc_required_roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        known = {role.value for role in Role}
        unknown = [r.strip() for r in value.split(",") if r.strip() and r.strip() not in known]
        if unknown:
            raise ValueError(
                f"PALIER_OIDC_REQUIRED_ROLES: unknown role(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})."
            )
        return value

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer.strip() and self.oidc_client_id.strip())

    @property
    def oidc_required_role_list(self) -> list[str]:
        return [r.strip() for r in self.oidc_required_roles.split(",") if r.strip()]

    # Logs: JSON lines when env=production, readable lines otherwise (app/observability.py).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def public_url(self) -> str:
        """The start of every absolute link (no trailing slash): the base URL, else the
        address the server listens on (a wildcard address is reached through loopback)."""
        if self.base_url.strip():
            return self.base_url.strip().rstrip("/")
        host = self.host.strip()
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [h.strip() for h in self.trusted_proxies.split(",") if h.strip()]

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.env != "development" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < MIN_SECRET_KEY_LENGTH
        ):
            raise ValueError(
                f"PALIER_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters when PALIER_ENV={self.env} "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        if self.env == "production" and not self.base_url.strip():
            raise ValueError(
                "PALIER_BASE_URL must be set to the public address of the application when "
                "PALIER_ENV=production (e.g. https://palier.example.fr): e-mailed links use it."
            )
        if self.jobs_runner == "queue" and self.database_url.startswith("sqlite"):
            raise ValueError(
                "PALIER_JOBS_RUNNER=queue needs PostgreSQL (PALIER_DATABASE_URL); "
                "on SQLite jobs run inline."
            )
        return self


LEGAL_FIELDS = {name for name in Settings.model_fields if name.startswith("legal_")}


@lru_cache
def get_settings() -> Settings:
    return Settings()
