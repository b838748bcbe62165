"""Django settings — read only from ``CIVICGRID_*`` environment variables.

Development defaults are safe to try (SQLite in WAL mode under ``var/``, a generated secret kept
in ``var/``); production mode (``CIVICGRID_DEBUG`` unset or false together with
``CIVICGRID_PRODUCTION=true``) refuses to start without a real secret.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from civicgrid.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR.parent / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = envbool("PRODUCTION", False)
DEBUG = envbool("DEBUG", not PRODUCTION)


def _secret_key() -> str:
    key = envstr("SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 40:
            raise ImproperlyConfigured("CIVICGRID_SECRET_KEY must be at least 40 characters in production.")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Production mode needs a real secret: set CIVICGRID_SECRET_KEY or CIVICGRID_SECRET_KEY_FILE."
        )
    # Development only: one generated secret per checkout, kept so sessions survive restarts.
    dev_key_file = VAR_DIR / "dev-secret-key"
    if not dev_key_file.exists():
        dev_key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        dev_key_file.chmod(0o600)
    return dev_key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "civicgrid.accounts",
    "civicgrid.audit",
    "civicgrid.pii",
    "civicgrid.regions",
    "civicgrid.cases",
    "civicgrid.notifications",
    "civicgrid.routing",
    "civicgrid.whistles",
    "civicgrid.hotline",
    "civicgrid.devices",
    "civicgrid.open311",
    "civicgrid.patrol",
    "civicgrid.enforcement",
    "civicgrid.mobile",
    "civicgrid.insight",
    "civicgrid.demo",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "civicgrid.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "civicgrid.audit.middleware.AuditDeniedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "civicgrid.accounts.middleware.PasswordExpiryMiddleware",
    "civicgrid.accounts.middleware.SecondFactorSetupMiddleware",
    "civicgrid.middleware.ErrorShapeMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "civicgrid.cases.context.case_nav",
            ],
        },
    },
]

_database_url = envstr("DATABASE_URL")
_sqlite_writer_lock = envbool("SQLITE_WRITER_LOCK", True)
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            # Writers queue on an OS lock, not in SQLite's sleeping busy handler (civicgrid/dbsqlite,
            # docs/decisions/0008); only here, where WAL is set, which its freedom from deadlock needs.
            "ENGINE": "civicgrid.dbsqlite" if _sqlite_writer_lock else "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "civicgrid.sqlite3",
            # WAL lets readers run while one writer commits; IMMEDIATE avoids the
            # "database is locked" upgrade deadlock between two writers.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
                "transaction_mode": "IMMEDIATE",
            },
            # Keep the connection, as with PostgreSQL: reopening it (and rerunning the PRAGMAs)
            # cost ~0.9 ms on every request (bench/bench_cases_create.py).
            "CONN_MAX_AGE": 60,
            "TEST": {"NAME": ":memory:"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Argon2 first (等保 2.0 asks for a strong one-way hash); the others only verify old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_MIN_LENGTH = envint("PASSWORD_MIN_LENGTH", 8)
PASSWORD_MIN_CLASSES = envint("PASSWORD_MIN_CLASSES", 3)
PASSWORD_HISTORY = envint("PASSWORD_HISTORY", 5)
PASSWORD_EXPIRY_DAYS = envint("PASSWORD_EXPIRY_DAYS", 0)  # 0 = passwords do not expire
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "civicgrid.accounts.passwords.CharacterClassesValidator"},
    {"NAME": "civicgrid.accounts.passwords.PasswordHistoryValidator"},
]
AUTHENTICATION_BACKENDS = ["civicgrid.accounts.lockout.LockoutBackend"]
LOCKOUT_FAILURES = envint("LOCKOUT_FAILURES", 5)
LOCKOUT_WINDOW_MINUTES = envint("LOCKOUT_WINDOW_MINUTES", 15)
# Idle timeout: the session expires after this long without a request (each request renews it).
IDLE_TIMEOUT_MINUTES = envint("IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_AGE = IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# In development WhiteNoise serves straight from the app folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HSTS only in production, where TLS is terminated in front of the app (a year, subdomains too).
SECURE_HSTS_SECONDS = envint("HSTS_SECONDS", 31_536_000) if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
if envint("TRUSTED_PROXY_COUNT", 0) > 0:
    # The proxy tells us the original scheme; only trusted when a proxy is declared.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every log line passes the PII filter, which masks ID numbers and mobile numbers; Django's own
# loggers are routed through it too, or they would print unmasked request data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "civicgrid.pii.masking.PIIMaskingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_pii"]}},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}

# --- Domain settings (each documented in docs/operators.md) ---------------------------------
# Grid code format: Python format string over county (6), street (3), community (3) and seq.
# Default is the CJ/T 213 14-digit rule; Beijing's DB11/T 2157 uses "{county}{street}{community}{seq:03d}".
GRID_CODE_FORMAT = envstr("GRID_CODE_FORMAT", "{county}{street}{community}{seq:02d}")
# Coverage tolerance: gaps/overlaps smaller than this (m², geodesic) are ignored.
COVERAGE_TOLERANCE_M2 = envfloat("COVERAGE_TOLERANCE_M2", 1.0)
# Bulk locate limit per request.
LOCATE_BULK_MAX = envint("LOCATE_BULK_MAX", 10_000)
# Map base tiles: empty means no tiles (offline intranet); TILE_CRS is wgs84 or gcj02.
TILE_URL = envstr("TILE_URL", "")
TILE_CRS = envstr("TILE_CRS", "wgs84")
TILE_ATTRIBUTION = envstr("TILE_ATTRIBUTION", "")
TILE_NAME = _("Base map")

if TILE_CRS not in {"wgs84", "gcj02"}:
    raise ImproperlyConfigured("CIVICGRID_TILE_CRS must be wgs84 or gcj02.")

# Audit trail (docs/audit.md): records older than this many days may be purged with
# `civicgrid audit purge`; 等保 2.0 level 3 asks for at least 180, and purge refuses less.
AUDIT_RETENTION_DAYS = envint("AUDIT_RETENTION_DAYS", 180)
# Roles whose work needs to see personal data in full (each reveal states a reason and is audited).
PII_REVEAL_ROLES = envlist(
    "PII_REVEAL_ROLES", ["operator", "shift_lead", "street_operator", "community_staff", "grid_chief"]
)
# How many reverse proxies in front of the app may set X-Forwarded-For (0: trust none).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)


# --- Cases (docs/cases.md) ---
# Office hours of a working day for the working-time clock (工作时/工作日); holidays and 调休 come
# from chinese-calendar, local days off from the back office (Calendar overrides).
OFFICE_HOURS = envstr("OFFICE_HOURS", "08:30-12:00,13:30-17:30")
# Share of a stage's time after which its owners get a yellow warning.
SLA_WARN_SHARE = envfloat("SLA_WARN_SHARE", 0.8)
if not 0 < SLA_WARN_SHARE < 1:
    raise ImproperlyConfigured("CIVICGRID_SLA_WARN_SHARE must lie between 0 and 1.")
# Attachments: the largest file accepted, and where files are kept.
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_MB", 10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES * 4 + 1024 * 1024
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Outside message channels (dotted class paths) and the kinds of message that go out by them.
NOTIFY_CHANNELS = envlist("NOTIFY_CHANNELS", ["civicgrid.notifications.channels.LogChannel"])
NOTIFY_EXTERNAL_KINDS = envlist(
    "NOTIFY_EXTERNAL_KINDS", ["case.dispatched", "case.overdue", "case.warning", "case.returned"]
)

# Periodic work (SLA warnings, overdue notices) runs in Huey. With CIVICGRID_REDIS_URL it uses
# Redis; without, a SQLite file under var/. Tests run tasks in place (immediate mode).
REDIS_URL = envstr("REDIS_URL", "")
_HUEY_IMMEDIATE = envbool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "civicgrid",
        "url": REDIS_URL,
        "immediate": _HUEY_IMMEDIATE,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "civicgrid",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": _HUEY_IMMEDIATE,
    }


# The cache holds rate-limit counters. With Redis they are shared by every worker process;
# without, each process counts on its own (the limit then applies per process).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Public reports (/report/) per client address and window.
REPORT_RATE_LIMIT = envint("REPORT_RATE_LIMIT", 10)
REPORT_RATE_WINDOW_MINUTES = envint("REPORT_RATE_WINDOW_MINUTES", 60)
# The public "already reported?" check (/api/v1/cases/duplicates), per address and the same window.
DUPLICATE_CHECK_RATE_LIMIT = envint("DUPLICATE_CHECK_RATE_LIMIT", REPORT_RATE_LIMIT * 6)
# The Open311 GeoReport v2 server (docs/open311.md): GET requests per client address and minute,
# and the jurisdiction_id (besides the district codes) that clients may name.
OPEN311_LIST_RATE_LIMIT = envint("OPEN311_LIST_RATE_LIMIT", 120)
OPEN311_JURISDICTION_DOMAIN = envstr("OPEN311_JURISDICTION_DOMAIN")
# 12345 hotline imports (docs/hotline.md): the largest file, and the building processes of a
# large batch (0: one per core for batches of 20,000 orders or more).
HOTLINE_UPLOAD_MAX_MB = envint("HOTLINE_UPLOAD_MAX_MB", 64)
HOTLINE_IMPORT_WORKERS = envint("HOTLINE_IMPORT_WORKERS", 0)
# Camera and sensor alarms (docs/devices.md): how far a signed timestamp may be from the server
# clock (seconds), and refusals per address and minute before it is ignored (0: no limit).
DEVICES_CLOCK_WINDOW = envint("DEVICES_CLOCK_WINDOW", 300)
DEVICES_REFUSALS_PER_MINUTE = envint("DEVICES_REFUSALS_PER_MINUTE", 600)
# A patrol nothing was heard from (no track point) for this long is ended by the sweep at its
# last point: the worker forgot to stop it (docs/patrol.md).
PATROL_IDLE_MINUTES = envint("PATROL_IDLE_MINUTES", 120)
# The grid worker's monthly score (docs/assessment.md): item:weight pairs. The default is the
# inspector's composite (CJ/T 292 as implemented) with patrol coverage standing in for 漏报率.
ASSESSMENT_WEIGHTS = {
    item.strip(): float(weight)
    for item, _sep, weight in (
        pair.partition(":")
        for pair in envlist(
            "ASSESSMENT_WEIGHTS", ["valid_reports:40", "patrol:20", "verify_on_time:20", "check_on_time:20"]
        )
    )
}


# Personal-data keys (docs/personal-data.md): AES-GCM data keys and the blind-index key.
def _pii_key_file() -> Path:
    from civicgrid.pii.keys import keyfile_create, keyring_read

    configured = envstr("PII_KEY_FILE")
    if configured:
        # Never create a missing configured file: a fresh key would leave the data unreadable.
        if not Path(configured).is_file():
            raise ImproperlyConfigured(f"CIVICGRID_PII_KEY_FILE={configured} is not a file.")
        keyring_read(Path(configured))  # refuse to start with a file that cannot be used
        return Path(configured)
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Production mode needs the personal-data key file: set CIVICGRID_PII_KEY_FILE "
            "(create one with `python -m civicgrid.pii.keys create PATH`, then back it up)."
        )
    # Development only: one key file per checkout, kept so the data stays readable.
    dev_key_file = VAR_DIR / "pii-keys.json"
    if not dev_key_file.exists():
        keyfile_create(dev_key_file)
    return dev_key_file


PII_KEY_FILE = _pii_key_file()
