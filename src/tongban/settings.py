"""Settings: the one place that reads the environment.

Every ``TONGBAN_*`` variable is documented in ``docs/settings.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext

from tongban.core.deployment import cache_config, media_storage, metrics_networks

# Django's generic classes (ModelAdmin[Item], ModelForm[Hall], QuerySet[Case], ...) take their
# type arguments at run time too, as the annotations give them (django-stubs' recommended set-up).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("TONGBAN_DATA_DIR", "var")).resolve()
DEBUG = _env_bool("TONGBAN_DEBUG", False)
SECRET_KEY = os.environ.get("TONGBAN_SECRET_KEY") or (
    # A fixed key is acceptable only for local development and tests; production must set one.
    "insecure-development-key-change-me" if DEBUG or os.environ.get("PYTEST_VERSION") else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("TONGBAN_SECRET_KEY must be set when TONGBAN_DEBUG is off.")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("TONGBAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "tongban.audit.admin_apps.AuditedAdminConfig",  # django.contrib.admin, every write audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tongban.core",
    "tongban.audit",
    "tongban.organizations",
    "tongban.accounts",
    "tongban.catalog",
    "tongban.exchange",
    "tongban.licences",
    "tongban.clock",
    "tongban.cases.workflows",
    "tongban.cases",
    "tongban.cases.notifications",
    "tongban.scheduling",
    "tongban.queues",
    "tongban.ratings",
    "tongban.supervision",
    "tongban.inspections",
    "tongban.decisions",
    "tongban.demo",
]

MIDDLEWARE = [
    # First: the request id is on every log record of the request, the metrics time it all.
    "tongban.core.logs.RequestIdMiddleware",
    "tongban.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tongban.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale (its answer speaks the request's language), before anything reads input.
    "tongban.core.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff two-factor authentication (accounts/twofactor.py): django-otp marks a verified
    # session; a session that still owes its second factor sees only the two-factor pages.
    "django_otp.middleware.OTPMiddleware",
    "tongban.accounts.twofactor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: runs the view, once more after a deadlock; 503 only for a lock time-out.
    "tongban.core.middleware.LockFailureMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.core.context_processors.site",
                "tongban.accounts.navigation.navigation",
                "tongban.clock.context_processors.calendar_warning",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("TONGBAN_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tongban.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with writers queued instead of sleeping (tongban.core.sqlite_backend).
    DATABASES["default"]["ENGINE"] = "tongban.core.sqlite_backend"
    # Tests: an in-memory database, as Django's default for SQLite (said explicitly, since test
    # tools recognise that default by the stock backend's name).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    # Connections are kept per thread (conn_max_age above), as on PostgreSQL: a new SQLite
    # connection parses the whole schema at its first statement and starts with an empty
    # statement cache — about 1.5 ms and every statement prepared again, on every request.
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer commits; IMMEDIATE avoids lock upgrades
        # that would otherwise fail with "database is locked" under concurrent writes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Each request checks that its kept connection still works before using it, so a restarted or
# failed-over PostgreSQL costs the requests in flight, not a restart of every node. The check is
# a look at the idle connection's socket, and a SELECT 1 only when something arrived on it
# (tongban.core.connections).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- cache ----------------------------------------------------------------------------------
# What must agree across several nodes goes through Django's cache: TONGBAN_CACHE_URL names a
# shared one (redis://127.0.0.1:6379/0); empty: this process's memory (one node).
CACHES = {"default": cache_config(os.environ.get("TONGBAN_CACHE_URL", ""))}

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Admin permissions follow the account's role (no groups to keep in step).
    "tongban.accounts.backends.RolePermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
AXES_FAILURE_LIMIT = int(os.environ.get("TONGBAN_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = 0.5  # hours
# Failures count per pair (username, client address): only that pair is locked, so nobody can
# lock a real user out from elsewhere (core/lockout.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "tongban.core.lockout.LockoutHandler"
# How many reverse proxies (the TLS-terminating nginx, a load balancer) stand in front of the
# application and append to X-Forwarded-For; 0: clients connect directly. Behind proxies, the
# client address of the lockout is the one the outermost trusted proxy saw — without this every
# client would share the proxy's address (core/lockout.py).
TRUSTED_PROXY_COUNT = int(os.environ.get("TONGBAN_TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "tongban.core.lockout.client_address"
# Different usernames one client address may fail on within the cool-off before it may try no
# further one (an address spraying names, existing or not).
LOGIN_ADDRESS_USERNAME_LIMIT = int(os.environ.get("TONGBAN_LOGIN_ADDRESS_USERNAME_LIMIT", "20"))
AXES_RESET_ON_SUCCESS = True
# Log attempts with the lockout parameters only, and no start-up banner on every command.
AXES_VERBOSE = False
# The same lockout guards the login page and POST /api/v1/auth/token; this answers both in Chinese
# (JSON for the API).
AXES_LOCKOUT_CALLABLE = "tongban.core.lockout.lockout_response"
# Staff two-factor authentication (TOTP, docs/operations.md): required for bureau administrators
# and supervisors when on (other staff may opt in either way). On by default outside debug mode.
TWO_FACTOR_REQUIRED = _env_bool("TONGBAN_2FA_REQUIRED", not DEBUG)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = os.environ.get("TONGBAN_SITE_NAME", "兰州市政务服务网")
# Lifetime of an API bearer token, in hours.
API_TOKEN_TTL_HOURS = int(os.environ.get("TONGBAN_API_TOKEN_TTL_HOURS", "24"))

# --- login through the provincial identity provider (OpenID Connect, mozilla-django-oidc) ---
# Off by default. When on, the public login page offers "使用省统一身份认证登录" and
# /accounts/oidc/… answer; the provider's claims become a citizen account (accounts/oidc.py).
OIDC_ENABLED = _env_bool("TONGBAN_OIDC_ENABLED", False)
OIDC_RP_CLIENT_ID = os.environ.get("TONGBAN_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("TONGBAN_OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("TONGBAN_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("TONGBAN_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("TONGBAN_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("TONGBAN_OIDC_JWKS_ENDPOINT", "") or None
OIDC_RP_SIGN_ALGO = os.environ.get("TONGBAN_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("TONGBAN_OIDC_SCOPES", "openid profile")
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
OIDC_CLAIMS = {
    "name": os.environ.get("TONGBAN_OIDC_CLAIM_NAME", "name"),
    "id_number": os.environ.get("TONGBAN_OIDC_CLAIM_ID_NUMBER", "id_number"),
    "phone": os.environ.get("TONGBAN_OIDC_CLAIM_PHONE", "phone_number"),
}
# Where a failed or refused provider login lands (mozilla-django-oidc's setting).
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?oidc=failed"
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("tongban.accounts.oidc.ProvinceIdentityBackend")

# --- elder-friendly mode (适老化) --------------------------------------------------------------
# The cookie that remembers the choice (set by the header's switch, a year long).
ELDER_MODE_COOKIE = "tongban_elder"

# --- language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("TONGBAN_MEDIA_ROOT", "") or DATA_DIR / "media").resolve()
MEDIA_URL = "/media/"
# Where uploads live: MEDIA_ROOT (a local path; on several nodes a path they all mount), or an
# S3-compatible object store when TONGBAN_S3_BUCKET is set (docs/deployment.md). Personal files
# are encrypted on top of either by core.encrypted.EncryptedStorage, which wraps "default".
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Largest catalog workbook the upload page accepts, in bytes.
CATALOG_UPLOAD_MAX_BYTES = int(os.environ.get("TONGBAN_CATALOG_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("TONGBAN_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTP Strict Transport Security: seconds browsers keep to HTTPS only (0: no header). Sent only
# on HTTPS requests, so behind a TLS-terminating proxy set TONGBAN_PROXY_SSL_HEADER as well.
SECURE_HSTS_SECONDS = int(os.environ.get("TONGBAN_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("TONGBAN_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("TONGBAN_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is the domain owner's registration with the browser makers, not a setting of
    # this site: `check --deploy` need not remind of it (docs/settings.md).
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Redirect plain HTTP to HTTPS here; off by default because the TLS-terminating proxy does it.
SECURE_SSL_REDIRECT = _env_bool("TONGBAN_SSL_REDIRECT", False)
# The header by which the TLS-terminating proxy says the request came over HTTPS, e.g.
# "X-Forwarded-Proto: https"; empty: trust none (the proxy must overwrite it, never pass it on).
_PROXY_SSL_HEADER = os.environ.get("TONGBAN_PROXY_SSL_HEADER", "").strip()
if _PROXY_SSL_HEADER:
    _name, _, _value = _PROXY_SSL_HEADER.partition(":")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
# Content-Security-Policy of every answer (tongban.core.middleware.ContentSecurityPolicyMiddleware):
# the pages load scripts, styles, fonts and images only from the site itself (QR codes are data:
# images; a few templates carry their own <style>). Empty: no header (the default in debug mode).
CONTENT_SECURITY_POLICY = os.environ.get(
    "TONGBAN_CONTENT_SECURITY_POLICY",
    "" if DEBUG else ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                      "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                      "frame-ancestors 'none'"),
).strip()

# --- catalog targets (published by provinces; per-place settings) ---------------------------
# Share of items that need at most one visit / no visit, and the average committed/legal ratio.
# --- the clock (domain.md §3); per-hall office periods override the default ----------------
# Office periods of working days as "HH:MM-HH:MM" pairs separated by commas.
CLOCK_DEFAULT_OFFICE_PERIODS = [
    tuple(p.strip().split("-", 1))
    for p in os.environ.get("TONGBAN_OFFICE_PERIODS", "09:00-12:00,13:30-17:30").split(",")
    if p.strip()
]
# 当日办结: an application accepted later than this many minutes before close is due next day.
CLOCK_SAME_DAY_CUTOFF_MINUTES = int(os.environ.get("TONGBAN_SAME_DAY_CUTOFF_MINUTES", "120"))
# Yellow warning when the remaining business time is at most this fraction of the committed
# limit's business time, and never more than CLOCK_WARNING_WORKING_DAYS working days (the cap).
CLOCK_WARNING_FRACTION = float(os.environ.get("TONGBAN_WARNING_FRACTION", "0.2"))
CLOCK_WARNING_WORKING_DAYS = float(os.environ.get("TONGBAN_WARNING_WORKING_DAYS", "1"))

# --- cases and notifications --------------------------------------------------------------
# Largest material file an applicant may upload, in bytes.
CASE_UPLOAD_MAX_BYTES = int(os.environ.get("TONGBAN_CASE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
EMAIL_BACKEND = os.environ.get(
    "TONGBAN_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("TONGBAN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("TONGBAN_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("TONGBAN_EMAIL_FROM", "noreply@tongban.local")
SMS_BACKEND = os.environ.get("TONGBAN_SMS_BACKEND", "tongban.cases.notifications.sms.LogSmsBackend")

# --- background work (`tongban worker`) ----------------------------------------------------
# "database": tasks wait in the database until a `tongban worker` runs them; "immediate": each
# task runs at once in the process that enqueues it (a one-process demo without a worker).
_TASK_BACKENDS = {"database": "django_tasks_db.DatabaseBackend",
                  "immediate": "django_tasks.backends.immediate.ImmediateBackend"}
TASKS_BACKEND = os.environ.get("TONGBAN_TASKS_BACKEND", "database").strip().lower()
if TASKS_BACKEND not in _TASK_BACKENDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("TONGBAN_TASKS_BACKEND must be 'database' or 'immediate'.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
# How often `tongban worker` looks for due schedules, in seconds.
SCHEDULER_TICK_SECONDS = float(os.environ.get("TONGBAN_SCHEDULER_TICK_SECONDS", "5"))
# Seconds a claimed task may run before it counts as abandoned by a dead worker and is queued
# again (at-least-once delivery); longer than the longest task takes.
TASK_LEASE_SECONDS = int(os.environ.get("TONGBAN_TASK_LEASE_SECONDS", "600"))
# Claims after which a task whose lease ran out again is marked failed instead of queued again.
TASK_MAX_ATTEMPTS = int(os.environ.get("TONGBAN_TASK_MAX_ATTEMPTS", "3"))
# Seconds the exchange waits for a provider's interface (接口 resources) before answering 502.
EXCHANGE_ADAPTER_TIMEOUT = float(os.environ.get("TONGBAN_EXCHANGE_ADAPTER_TIMEOUT", "5"))
# Finished task results older than this many days are deleted by the daily clean-up schedule.
TASK_RESULTS_KEEP_DAYS = int(os.environ.get("TONGBAN_TASK_RESULTS_KEEP_DAYS", "14"))

CATALOG_TARGETS = {
    "max_one_visit_share": float(os.environ.get("TONGBAN_TARGET_MAX_ONE_VISIT", "0.85")),
    "zero_visit_share": float(os.environ.get("TONGBAN_TARGET_ZERO_VISIT", "0.20")),
    "time_reduction": float(os.environ.get("TONGBAN_TARGET_TIME_REDUCTION", "0.50")),
}

# --- tongban serve (granian) ----------------------------------------------------------------
# Mount the two bare ceiling views of benchmarks/http_bench.py (tongban.bench); off in production.
BENCH_CEILING = _env_bool("TONGBAN_BENCH_CEILING", False)
SERVE_HOST = os.environ.get("TONGBAN_HOST", "127.0.0.1")
SERVE_PORT = int(os.environ.get("TONGBAN_PORT", "8000"))
# 0 means one worker process per CPU core.
SERVE_WORKERS = int(os.environ.get("TONGBAN_WORKERS", "0"))
# Request threads per worker (each may hold a database connection); 0 means 2 × cores + 1.
SERVE_THREADS = int(os.environ.get("TONGBAN_THREADS", "0"))

SITE_NAME = os.environ.get("TONGBAN_SITE_NAME", "兰州市政务服务网")
# The address printed documents' QR codes point to (``https://zwfw.example.gov.cn``); empty: the
# address the request that printed the document came in on.
PUBLIC_URL = os.environ.get("TONGBAN_PUBLIC_URL", "").rstrip("/")

# --- ratings 好差评 and rectification (domain.md §4) ----------------------------------------
# Days after a case's completion during which its applicant may still rate it.
RATING_WINDOW_DAYS = int(os.environ.get("TONGBAN_RATING_WINDOW_DAYS", "15"))
# Working days a department has to deal with a bad review (不满意 / 非常不满意).
RATING_RECTIFICATION_WORKING_DAYS = int(os.environ.get("TONGBAN_RECTIFICATION_WORKING_DAYS", "5"))
# Minutes an on-site rating link (the window's QR code / tablet page) stays valid after a visit.
RATING_VISIT_TOKEN_MINUTES = int(os.environ.get("TONGBAN_RATING_VISIT_TOKEN_MINUTES", "30"))

# --- logs, metrics, readiness (docs/operations.md) -------------------------------------------
# "json": one JSON object per line (time, level, logger, message, request_id, …) for a log
# shipper; "text": a readable line. JSON by default outside debug mode.
LOG_FORMAT = os.environ.get("TONGBAN_LOG_FORMAT", "text" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("TONGBAN_LOG_FORMAT must be 'json' or 'text'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tongban.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "tongban.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("TONGBAN_LOG_LEVEL", "INFO")},
    "loggers": {"jieba": {"level": "WARNING"}},
}
# /metrics answers requests from these networks (the client address as the lockout sees it,
# TONGBAN_TRUSTED_PROXY_COUNT) or bearing this token ("Authorization: Bearer …"); anyone else 403.
METRICS_ALLOWED_NETWORKS = metrics_networks(
    os.environ.get("TONGBAN_METRICS_NETWORKS", "127.0.0.0/8,::1/128"))
METRICS_TOKEN = os.environ.get("TONGBAN_METRICS_TOKEN", "")
# Seconds the database aggregates of /metrics (cases by state, the queue) are kept between scrapes.
METRICS_CACHE_SECONDS = float(os.environ.get("TONGBAN_METRICS_CACHE_SECONDS", "30"))
# Seconds each process keeps the answer of /readyz (its checks run at most once in that time,
# however often it is probed); 0: every request runs them.
READY_CACHE_SECONDS = float(os.environ.get("TONGBAN_READY_CACHE_SECONDS", "2"))
# /readyz fails when the oldest queued task has waited longer than this (seconds), a schedule is
# overdue by more than this (the worker is not running), or an audit record has waited longer
# than this for its seal.
READY_QUEUE_MAX_AGE_SECONDS = int(os.environ.get("TONGBAN_READY_QUEUE_MAX_AGE_SECONDS", "600"))
READY_SCHEDULE_MAX_LAG_SECONDS = int(os.environ.get("TONGBAN_READY_SCHEDULE_MAX_LAG_SECONDS", "600"))
READY_AUDIT_MAX_UNSEALED_SECONDS = int(os.environ.get("TONGBAN_READY_AUDIT_MAX_UNSEALED_SECONDS", "600"))

# --- electronic supervision 电子监察 (domain.md §5) ------------------------------------------
# Yellow and red marks reuse the clock's threshold (TONGBAN_WARNING_WORKING_DAYS) and due instants.
# A refusal (不予受理) or denial (不予办理) whose reason has fewer characters than this counts as
# "without a reason".
SUPERVISION_MIN_REASON_CHARS = int(os.environ.get("TONGBAN_SUPERVISION_MIN_REASON_CHARS", "4"))
# The supervision sweep looks back this many days for decisions, late steps and visits.
SUPERVISION_LOOKBACK_DAYS = int(os.environ.get("TONGBAN_SUPERVISION_LOOKBACK_DAYS", "30"))
# Weeks shown in the dashboard's trend chart.
SUPERVISION_TREND_WEEKS = int(os.environ.get("TONGBAN_SUPERVISION_TREND_WEEKS", "12"))

# --- audit log: hash chain and signed checkpoints (docs/audit.md) ---------------------------
# Hash of new audit records: "sha256" or "sm3" (GB/T 32905). Each record stores its algorithm.
AUDIT_HASH = os.environ.get("TONGBAN_AUDIT_HASH", "sha256").strip().lower()
# Signature of the checkpoints: "ed25519" or "sm2" (GB/T 32918).
AUDIT_SIGNATURE = os.environ.get("TONGBAN_AUDIT_SIGNATURE", "ed25519").strip().lower()
if AUDIT_HASH not in {"sha256", "sm3"} or AUDIT_SIGNATURE not in {"ed25519", "sm2"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("TONGBAN_AUDIT_HASH must be sha256 or sm3; "
                               "TONGBAN_AUDIT_SIGNATURE must be ed25519 or sm2.")
# The checkpoint signing key (PEM or hex); empty: generated once into AUDIT_KEY_DIR.
AUDIT_SIGNING_KEY_FILE = os.environ.get("TONGBAN_AUDIT_SIGNING_KEY_FILE", "")
# Where the generated signing key lives: never beside the data it signs (not in DATA_DIR).
# Empty: /etc/tongban when writable, else $XDG_CONFIG_HOME/tongban (~/.config/tongban).
AUDIT_KEY_DIR = os.environ.get("TONGBAN_AUDIT_KEY_DIR", "")
# The append-only file outside the database where every committed chain head and checkpoint is
# also written (verify_audit compares); empty: DATA_DIR/audit-head.log.
AUDIT_HEAD_FILE = os.environ.get("TONGBAN_AUDIT_HEAD_FILE", "")
# verify_audit fails when a record has waited longer than this for a signed checkpoint (the
# checkpoint schedule is hourly: two hours allow one late run).
AUDIT_CHECKPOINT_MAX_AGE_MINUTES = int(os.environ.get("TONGBAN_AUDIT_CHECKPOINT_MAX_AGE_MINUTES", "120"))
# Sealing (docs/audit.md): how long the sealer waits for transactions that may still commit a
# numbered record before sealing past them; and the age of the oldest unsealed record beyond
# which verify_audit (and the readiness check) report the sealer as stopped (0: never).
AUDIT_SEAL_WAIT_SECONDS = float(os.environ.get("TONGBAN_AUDIT_SEAL_WAIT_SECONDS", "5"))
AUDIT_SEAL_MAX_AGE_SECONDS = int(os.environ.get("TONGBAN_AUDIT_SEAL_MAX_AGE_SECONDS", "120"))
# Keys of the personal data encrypted at rest (core/crypto.py, docs/privacy.md); empty: generated
# once into DATA_DIR/personal-data.keys.
PERSONAL_DATA_KEY_FILE = os.environ.get("TONGBAN_PERSONAL_DATA_KEY_FILE", "")
# Retired public keys whose old checkpoints still count, "ed25519:HEX,sm2:HEX".
AUDIT_TRUSTED_PUBLIC_KEYS = [
    k.strip() for k in os.environ.get("TONGBAN_AUDIT_TRUSTED_PUBLIC_KEYS", "").split(",") if k.strip()
]

# --- e-licences (docs/licences.md) -------------------------------------------------------------
# Signature of issued e-licences: "ed25519" or "sm2" (GB/T 32918); a key of its own, never the
# audit key. Empty key file: generated once as licence-signing.key in AUDIT_KEY_DIR.
LICENCE_SIGNATURE = os.environ.get("TONGBAN_LICENCE_SIGNATURE", "ed25519").strip().lower()
if LICENCE_SIGNATURE not in {"ed25519", "sm2"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("TONGBAN_LICENCE_SIGNATURE must be ed25519 or sm2.")
LICENCE_SIGNING_KEY_FILE = os.environ.get("TONGBAN_LICENCE_SIGNING_KEY_FILE", "")
# Retired public keys whose licences still verify, "ed25519:HEX,sm2:HEX".
LICENCE_TRUSTED_PUBLIC_KEYS = [
    k.strip() for k in os.environ.get("TONGBAN_LICENCE_TRUSTED_PUBLIC_KEYS", "").split(",")
    if k.strip()
]
