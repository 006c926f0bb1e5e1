"""Settings for the report hand-in site, read from the environment.

Every variable has a default that makes `make run` and `make test` work with nothing set (SQLite file in the
project folder, DEBUG on, a development secret key). Production sets DEBUG=0 and must set SECRET_KEY.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_credentials(name: str) -> list[tuple[str, str]]:
    """(URL prefix, secret) pairs from lines `<prefix> <token>` (blank lines and # comments skipped): the variable's
    own value when it holds a space, else the path of a file of such lines. Errors never repeat a secret."""
    value = os.environ.get(name, "").strip()
    if not value:
        return []
    if not any(c.isspace() for c in value):
        try:
            value = Path(value).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or "not UTF-8 text"
            raise ImproperlyConfigured(f"{name} has no space, so it names a file; it cannot be read ({why})") from None
    pairs = []
    for number, line in enumerate(value.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 2 or not fields[0].startswith(("https://", "http://")):
            raise ImproperlyConfigured(f"{name}: line {number} must be a URL prefix, a space and a token")
        pairs.append((fields[0], fields[1]))
    return pairs


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY  # set but empty (as compose passes it) is unset
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A form that fails its CSRF check gets our page, which gives the text it sent back (never Django's raw page).
CSRF_FAILURE_VIEW = "reports_app.views.system.csrf_failure"

# HTTPS=1: the site is served over HTTPS (usually by a proxy in front that sets X-Forwarded-Proto): cookies only
# over HTTPS, HSTS, and plain HTTP redirected. Off by default so that `make run` and a local compose work on http.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # The health check comes from inside the container network, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks",
    "django_tasks_db",
    "reports_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "reports_app.middleware.RequestEncodingMiddleware",  # before anything reads a form
    "reports_app.middleware.PrivatePagesMiddleware",  # outside SessionMiddleware: sees the cookie a login sets
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "reports_app.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "course.urls"
WSGI_APPLICATION = "course.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,  # a connection kept across requests is checked first: a database restart goes unseen
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock (up to 20 s) instead of failing with "database is locked" when two saves meet; the
    # test database is a file too (one per test run), because threads sharing an in-memory one fail at once on table
    # locks.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"report-handin-test-{os.getpid()}.db")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Copenhagen")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Before collectstatic has run (development, tests), whitenoise looks static files up when they are asked for.
WHITENOISE_AUTOREFRESH = DEBUG or not STATIC_ROOT.is_dir()
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Largest report file we read (import, check, scrape); the course's files are ~40 kB.
REPORT_MAX_BYTES = env_int("REPORT_MAX_BYTES", 5 * 1024 * 1024)
# Largest figure a student may upload; PNG and JPEG only, judged by content.
FIGURE_MAX_BYTES = env_int("FIGURE_MAX_BYTES", 5 * 1024 * 1024)
# Largest figure in pixels (width x height): a small file can still decode to gigabytes.
FIGURE_MAX_PIXELS = env_int("FIGURE_MAX_PIXELS", 40_000_000)
# Most scans (passes over every pixel) a JPEG figure may be saved in: a progressive JPEG has about 10.
FIGURE_MAX_SCANS = env_int("FIGURE_MAX_SCANS", 100)
# The budget of one render of markdown or one decode of an image, run in a worker process that is killed past it
# (reports_app/engine/bounded.py): seconds, megabytes of memory, Python stack depth. A real report needs a fraction
# of each.
BUDGET_SECONDS = env_int("BUDGET_SECONDS", 5)
BUDGET_MEMORY_MB = env_int("BUDGET_MEMORY_MB", 2048)
BUDGET_RECURSION = env_int("BUDGET_RECURSION", 1000)

# Scraping group repos: only URLs starting with one of these prefixes are fetched (file:// only in tests).
SCRAPE_ALLOWED_URLS = env_list("SCRAPE_ALLOWED_URLS", ["https://github.com/"])
# Seconds one git command may take before the repo counts as unreachable.
SCRAPE_TIMEOUT = env_int("SCRAPE_TIMEOUT", 60)
# Largest total of bytes we take from one repo's reports/ folder (README and figures).
SCRAPE_MAX_BYTES = env_int("SCRAPE_MAX_BYTES", 50 * 1024 * 1024)
# Most figures read from one repo's reports/figures/ (the first by name), and most a scrape fills a report up to.
SCRAPE_MAX_FIGURES = env_int("SCRAPE_MAX_FIGURES", 200)
# Repos fetched at once by a scrape.
SCRAPE_WORKERS = env_int("SCRAPE_WORKERS", 8)
# Of them, at most this many from one host (github.com, say): servers rate limit per client.
SCRAPE_PER_HOST = env_int("SCRAPE_PER_HOST", 8)
if SCRAPE_PER_HOST < 1:
    raise ImproperlyConfigured("SCRAPE_PER_HOST must be 1 or more")
# Tokens for private repos, per URL prefix: lines `https://github.com/ <token>` (README, "Private repos").
SCRAPE_CREDENTIALS = env_credentials("SCRAPE_CREDENTIALS")
# A worker running a job marks it alive every JOB_HEARTBEAT_SECONDS; a running job silent for JOB_STALLED_SECONDS
# counts as stopped (its worker was killed or lost the database) and may be run again.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 15)
JOB_STALLED_SECONDS = env_int("JOB_STALLED_SECONDS", 4 * JOB_HEARTBEAT_SECONDS)
if not 1 <= JOB_HEARTBEAT_SECONDS < JOB_STALLED_SECONDS:
    raise ImproperlyConfigured("JOB_HEARTBEAT_SECONDS must be 1 or more, and less than JOB_STALLED_SECONDS")
# One group of a job (reading its repo, importing it, rendering its export) may take JOB_GROUP_SECONDS; past it the
# group is given up as "took too long" and the job goes on. A running job that makes no progress for that long shows
# as stuck and may be run again.
JOB_GROUP_SECONDS = env_int("JOB_GROUP_SECONDS", 300)
if JOB_GROUP_SECONDS < 1:
    raise ImproperlyConfigured("JOB_GROUP_SECONDS must be 1 or more")
# A head scrape planned at a deadline that the worker starts later than this is not on time (deadline_scrapes.py).
DEADLINE_SCRAPE_GRACE_SECONDS = env_int("DEADLINE_SCRAPE_GRACE_SECONDS", 600)

# Failed logins: after LOGIN_MAX_FAILURES for one user name (from any address), or LOGIN_MAX_FAILURES_PER_ADDRESS
# from one client address, within LOGIN_LOCKOUT_SECONDS, its logins are refused for LOGIN_LOCKOUT_SECONDS.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 4 * LOGIN_MAX_FAILURES)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
# Proxies in front of the site that add the client's address to X-Forwarded-For; 0: REMOTE_ADDR is the client. Behind
# one, leaving 0 makes every visitor one address, which the limit above then locks out together.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
if min(LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS, LOGIN_LOCKOUT_SECONDS) < 1 or TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("LOGIN_MAX_FAILURES* and LOGIN_LOCKOUT_SECONDS must be 1 or more; TRUSTED_PROXIES 0+")
# Sign-ups on /join/ (right or wrong code): after JOIN_MAX_FAILURES_PER_ADDRESS from one client address (as for
# logins) within LOGIN_LOCKOUT_SECONDS, its sign-ups are refused for LOGIN_LOCKOUT_SECONDS.
JOIN_MAX_FAILURES_PER_ADDRESS = env_int("JOIN_MAX_FAILURES_PER_ADDRESS", 20)
if JOIN_MAX_FAILURES_PER_ADDRESS < 1:
    raise ImproperlyConfigured("JOIN_MAX_FAILURES_PER_ADDRESS must be 1 or more")
# Mails anyone can make the site send (sign-up invitations, password reset links): at most MAIL_MAX_PER_RECIPIENT to
# one e-mail address, and MAIL_MAX_PER_ADDRESS asked for from one client address, within MAIL_WINDOW_SECONDS; past
# that the pages answer as usual and send nothing.
MAIL_MAX_PER_RECIPIENT = env_int("MAIL_MAX_PER_RECIPIENT", 5)
MAIL_MAX_PER_ADDRESS = env_int("MAIL_MAX_PER_ADDRESS", 500)
MAIL_WINDOW_SECONDS = env_int("MAIL_WINDOW_SECONDS", 3600)
if min(MAIL_MAX_PER_RECIPIENT, MAIL_MAX_PER_ADDRESS, MAIL_WINDOW_SECONDS) < 1:
    raise ImproperlyConfigured("MAIL_MAX_PER_RECIPIENT, MAIL_MAX_PER_ADDRESS and MAIL_WINDOW_SECONDS must be 1 or more")
# Everyone a sign-up names is invited by mail; the invitation can be accepted for INVITATION_DAYS days.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)
if INVITATION_DAYS < 1:
    raise ImproperlyConfigured("INVITATION_DAYS must be 1 or more")
# The site's address, for the links in mails sent outside a request (`import_roster --invite`); unset, that refuses.
SITE_URL = os.environ.get("SITE_URL", "").strip().rstrip("/")
if SITE_URL and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, not {SITE_URL!r}")
# The editor autosaves a draft every few seconds while someone types; teammates see "bob is editing" for a draft
# saved within DRAFT_PRESENCE_SECONDS.
DRAFT_PRESENCE_SECONDS = env_int("DRAFT_PRESENCE_SECONDS", 60)

# Background work (scrapes, exports) runs in `manage.py db_worker`, queued in the database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTHENTICATION_BACKENDS = ["reports_app.auth.CaseInsensitiveBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Email (password reset links): printed to the console unless EMAIL_HOST is set, then sent over SMTP.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "Report hand-in <noreply@localhost>"
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 20  # seconds: a mail server that hangs must not hold a page for long
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
