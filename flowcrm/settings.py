"""Django settings, read from environment variables (see README "Configuration")."""

from __future__ import annotations

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("FLOWCRM_DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, else one generated on first run and kept in the data folder."""
    configured = env.str("FLOWCRM_SECRET_KEY", default="")
    if configured:
        return str(configured)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return str(key_file.read_text().strip())


SECRET_KEY = _secret_key()
DEBUG = env.bool("FLOWCRM_DEBUG", default=False)
ALLOWED_HOSTS = env.list("FLOWCRM_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("FLOWCRM_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "flowcrm.core",
    "flowcrm.accounts",
    "flowcrm.contacts",
    "flowcrm.sales",
    "flowcrm.activities",
    "flowcrm.flows",
    "flowcrm.insights",
    "flowcrm.imports",
    "flowcrm.forecasts",
    "flowcrm.reports",
    "flowcrm.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "flowcrm.urls"
WSGI_APPLICATION = "flowcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "flowcrm.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "FLOWCRM_DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'flowcrm.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE makes a writing transaction take
    # the write lock up front so concurrent writers queue (busy timeout) instead of failing with
    # "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("FLOWCRM_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("FLOWCRM_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

# Request bodies over this size are refused with 413 (uploads stream to disk above it).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("FLOWCRM_MAX_BODY_BYTES", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FLOWCRM_MAX_UPLOAD_BYTES = env.int("FLOWCRM_MAX_UPLOAD_BYTES", default=512 * 1024 * 1024)

# Django 6.1 mailers: one "default" mailer, SMTP unless FLOWCRM_EMAIL_BACKEND says otherwise.
MAILERS = {
    "default": {
        "BACKEND": env.str(
            "FLOWCRM_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
        ),
        "OPTIONS": {
            "host": env.str("FLOWCRM_EMAIL_HOST", default="127.0.0.1"),
            "port": env.int("FLOWCRM_EMAIL_PORT", default=25),
            "username": env.str("FLOWCRM_EMAIL_USER", default=""),
            "password": env.str("FLOWCRM_EMAIL_PASSWORD", default=""),
            "use_tls": env.bool("FLOWCRM_EMAIL_USE_TLS", default=False),
            "timeout": env.int("FLOWCRM_EMAIL_TIMEOUT", default=10),
        },
    }
}
DEFAULT_FROM_EMAIL = env.str("FLOWCRM_DEFAULT_FROM_EMAIL", default="FlowCRM <flowcrm@localhost>")

TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("FLOWCRM_LOG_LEVEL", default="WARNING")},
}
