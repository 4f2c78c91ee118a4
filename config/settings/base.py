"""Settings shared by every environment, all driven by environment variables (.env.example).

Nothing here is production-only: local, test and production differ only in the few overrides of
their own modules, so what the tests exercise is what the bank runs.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Queue as KombuQueue

from apps.core.task_routes import DEFAULT_QUEUE as DEFAULT_TASK_QUEUE
from apps.core.task_routes import Queue as TaskQueue
from apps.core.task_routes import celery_task_routes

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files of the embedded default: SQLite, broker, uploads
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me")
# Key of the resident-ID lookup hash (apps.parties): stable for the life of the data, unlike
# SECRET_KEY, which is rotated. Empty falls back to SECRET_KEY (local runs only).
PARTIES_ID_HASH_KEY = env("PARTIES_ID_HASH_KEY", default="")
# Key of the HMAC-SHA256 over approval sign-offs and committee votes (apps.approvals.signing);
# empty derives one from SECRET_KEY (local runs only).
APPROVALS_SIGNING_KEY = env("APPROVALS_SIGNING_KEY", default="")
# Wrong passwords at sign-off: after LIMIT within WINDOW the user may not sign or vote until the
# window passes (a hijacked session must not guess its way to a signature). 5 in 15 minutes is
# the usual account-lockout baseline (e.g. PCI DSS 8.3.4 locks after at most 10 tries for
# 30 min; OWASP ASVS 2.2.1 asks for such a limit); banks set their own, hence settings.
APPROVALS_SIGN_FAILURE_LIMIT = env.int("APPROVALS_SIGN_FAILURE_LIMIT", default=5)
APPROVALS_SIGN_FAILURE_WINDOW_MINUTES = env.int("APPROVALS_SIGN_FAILURE_WINDOW_MINUTES",
                                                default=15)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_fsm",  # for `manage.py graph_transitions` (docs/state-machines)
    "django_htmx",
    "axes",
    # Credence, in layer order (CONVENTIONS §1): core → audit → org → accounts → domain apps → web
    "apps.core",
    "apps.audit",
    "apps.org",
    "apps.accounts",
    "apps.parties",
    "apps.products",
    "apps.applications",
    "apps.investigations",
    "apps.documents",
    "apps.scoring",
    "apps.approvals",
    "apps.loans",
    "apps.datahub",
    "apps.monitoring",
    "apps.oversight",
    "apps.insight",
    "apps.web",
    "apps.demo",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    # A view that lost its database answers 503 + Retry-After, never an HTML 500 (issue 16).
    "apps.core.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Roles, permissions and branch subtree kept in the session until they change (issue 23).
    "apps.accounts.authz.AuthzSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns locked-out logins into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "apps.web.context_processors.navigation",
                "apps.oversight.context_processors.integrity_alert",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Embedded default: SQLite in var/, so `make run` needs no server. PostgreSQL via DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'credence.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock at BEGIN: the worker and web processes then queue
            # instead of failing with "database is locked" half-way through a transaction, and
            # the audit chain head cannot be read by two writers at once.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Without health checks the first request after a PostgreSQL restart gets a 500.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    # PostgreSQL's JIT compiles any statement whose estimate passes jit_above_cost: the score's
    # group exposure (correlated sub-selects per file) passed it once the portfolio grew, and
    # spent 3.3 s of 3.3 s compiling for 11 rows (docs/scaling.md, issue 23 (2)). Our statements
    # are short and indexed: off per connection, DATABASE_JIT=true to hand it back to the server.
    if not env.bool("DATABASE_JIT", default=False):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires, so a locked-out user is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Lockout (django-axes) ------------------------------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
# Lock the account, whatever address the attempts come from: branch staff share NAT addresses.
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 wants the address in the lockout key. A branch's staff share one NAT address, so an
# address lock would let five typos lock out a whole branch; locking the account cannot be
# bypassed by rotating user agents or cookies, which is what W006 guards against.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own overrides of Django's locale formats (config/formats/<locale>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded evidence lives outside the web root and is served only by permission-checked views.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Documents, exports and generated PDFs go through the default storage (apps/core/storage.py):
# the local disk under MEDIA_ROOT (the embedded default for `make run`), or S3-compatible object
# storage when S3_BUCKET is set (MinIO in docker-compose, any S3 API in production). Without
# S3_ACCESS_KEY_ID boto3 finds credentials itself (instance role, AWS_* variables).
S3_BUCKET = env("S3_BUCKET", default="")
if S3_BUCKET:
    DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": S3_BUCKET,
        "endpoint_url": env("S3_ENDPOINT_URL", default="") or None,
        "region_name": env("S3_REGION", default="") or None,
        "access_key": env("S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env("S3_SECRET_ACCESS_KEY", default="") or None,
        "location": env("S3_PREFIX", default=""),
        "addressing_style": env("S3_ADDRESSING_STYLE", default="path"),
        "signature_version": "s3v4",
        "default_acl": None,  # private: the bucket's policy decides, never public-read
        "querystring_auth": True,
        "file_overwrite": False,  # evidence is never replaced under the same name
        "max_memory_size": env.int("S3_SPOOL_MAX_MEMORY_BYTES", default=8 * 1024 * 1024),
    }}
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {
        "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700}}
# Downloads stream through the web process (0), or redirect to a signed URL of the object
# store valid this many seconds (a bearer link: keep it short). Ignored on the local disk.
STORAGE_SIGNED_URL_SECONDS = env.int("STORAGE_SIGNED_URL_SECONDS", default=0)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email: console by default, SMTP when EMAIL_URL is set (smtp+tls://user:pw@host:587) ------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="credence@localhost")
# Where the web UI is reached, for links in emails (a worker has no request to build them from).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- Security headers that hold in every environment ----------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)  # one working day
REFERRER_POLICY = "same-origin"

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes an anonymous call a 401, not a 403.
        "apps.accounts.authentication.CachedRightsTokenAuthentication",  # + rights kept by version
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
# The largest page any API list returns (`limit`); more is a 400, never "every row".
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=200)
SPECTACULAR_SETTINGS = {
    "TITLE": "Credence API",
    "DESCRIPTION": "Loan origination for small and micro enterprise lending.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's JavaScript comes from the installed sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "state" field: each state enum gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStateEnum": "apps.applications.states.ApplicationState",
        "InvestigationStateEnum": "apps.investigations.states.InvestigationState",
        # Re-scoring and training jobs share queued/running/completed/failed.
        "ScoringJobStateEnum": "apps.scoring.states.TrainingJobState",
        "ModelKindEnum": "apps.scoring.states.ModelKind",
        "LoanChangeKindEnum": "apps.loans.models.LoanChange.Kind",
        "LoanChangeDecisionEnum": "apps.loans.api.views.ChangeDecision",
        "ApprovalDecisionEnum": "apps.approvals.models.Decision",
        "ExemptionCaseStateEnum": "apps.oversight.exemption_states.ExemptionCaseState",
        "ExemptionTierEnum": "apps.oversight.exemption_states.Tier",
        # Five-category classification, shared by classifications, proposals and risk status.
        "CategoryEnum": "apps.monitoring.states.Category",
        "InspectionRequestedActionEnum": "apps.monitoring.inspection_states.RequestedAction",
        "TrainingSourceEnum": "apps.scoring.states.TrainingSource",
        "ScoreFailureStateEnum": "apps.scoring.states.ScoreFailureState",
        "ScoreFailureReasonEnum": "apps.scoring.states.ScoreFailureReason",
        "CovenantKindEnum": "apps.monitoring.covenant_states.CovenantKind",
        "CovenantCheckStateEnum": "apps.monitoring.covenant_states.CovenantCheckState",
        "AnnualReviewStateEnum": "apps.monitoring.covenant_states.AnnualReviewState",
        "CovenantStateEnum": "apps.monitoring.covenant_states.CovenantState",
        "CovenantChangeKindEnum": "apps.monitoring.covenant_states.CovenantChangeKind",
        "CovenantChangeStateEnum": "apps.monitoring.covenant_states.CovenantChangeState",
        "CovenantSourceEnum": "apps.monitoring.covenant_states.CovenantSource",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.document_error_responses",
    ],
}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Embedded default: kombu's filesystem transport, a real broker that needs no server (one host).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # kombu polls the folders once a second by default: a readiness ping (a budget of well
        # under a second) then saw "no worker answered" about three times in four.
        "polling_interval": 0.1,
    }
    for _folder in CELERY_BROKER_TRANSPORT_OPTIONS.values():
        if isinstance(_folder, str):
            Path(_folder).mkdir(parents=True, exist_ok=True)  # kombu does not create them
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Above the longest hard time limit (CELERY_TASK_TIME_LIMIT, 9 min) and the longest
        # retry countdown (5 min), or a running or waiting task is delivered twice; it is also
        # how long a killed worker's unacknowledged messages wait before they come back, so
        # 10 minutes, not Redis's default hour (issue 16).
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        # A web request must not hang on a broker that is down: the outbox relay retries.
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
# Readiness (/readyz, /healthz) runs its checks at once and answers within this many seconds:
# an orchestrator's probe times out at ~1 s, so a hung dependency must cost well under that.
# Reads sent again and again (the scoring worker's: apps.core.compiled, `prepared=True`) are
# prepared once per connection and executed by name, not parsed and planned every time. Off
# behind a connection pooler in transaction mode (sessions shared between clients).
DATABASE_PREPARED_READS = env.bool("DATABASE_PREPARED_READS", default=True)
HEALTH_READINESS_BUDGET_SECONDS = env.float("HEALTH_READINESS_BUDGET_SECONDS", default=0.4)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Every task finishes (or is killed) within the visibility timeout: a batch job longer than
# this works in chunks. Tasks with shorter natural limits set their own (document checks).
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=9 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=8 * 60)
# acks_late is set per task, only on idempotent ones, always with reject_on_worker_lost: a
# task whose pool child is killed goes back to the queue at once instead of being lost.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Database connections outlive a task, as they outlive a web request (CONN_MAX_AGE): Celery's
# Django fixup otherwise closes the connection before and after every task, so each task paid
# a new PostgreSQL backend (connect, authenticate, cold catalogue caches) — about half of
# scoring one application in bench_scoring_worker (issue #20). The fixup still closes it after
# this many tasks; between tasks config/celery.py closes a broken or expired one, as Django
# does between requests.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues per kind of work (apps/core/task_routes.py): interactive work never waits behind a
# portfolio re-score. Every task is routed by name; a worker started without -Q consumes all
# three (make run's embedded worker), production runs a worker per queue (docker-compose.yml).
CELERY_TASK_QUEUES = [KombuQueue(str(name), routing_key=str(name)) for name in TaskQueue]
CELERY_TASK_DEFAULT_QUEUE = str(DEFAULT_TASK_QUEUE)
CELERY_TASK_ROUTES = celery_task_routes()
# One schedule for the whole product; each entry fires one sweep that batches its own work.
CELERY_BEAT_SCHEDULE = {
    "audit-verify-nightly": {
        "task": "audit.audit_chain_verify",
        "schedule": crontab(hour=2, minute=15),
    },
    # Transactional outbox: send what the fast path after commit could not (broker down).
    "core-outbox-relay": {
        "task": "core.outbox_relay",
        "schedule": crontab(minute="*"),
    },
    "idempotency-purge-nightly": {
        "task": "core.idempotency_purge",
        "schedule": crontab(hour=3, minute=5),
    },
    # Re-queue document checks stuck past DOCUMENTS_CHECK_STUCK_MINUTES (lost or crashed),
    # conclude documents whose checks are all done: every two minutes, so nothing waits long.
    "document-check-sweep": {
        "task": "documents.document_check_sweep",
        "schedule": crontab(minute="*/2"),
    },
    # Stored files whose row never committed, past DOCUMENTS_ORPHAN_GRACE_HOURS; never one
    # with a row.
    "document-orphans-sweep-daily": {
        "task": "documents.document_orphans_sweep",
        "schedule": crontab(hour=3, minute=40),
    },
    "document-expiry-remind-daily": {
        "task": "documents.document_expiry_remind",
        "schedule": crontab(hour=7, minute=30),
    },
    # Reminders and escalations of approval steps; each notice is stamped, so reruns are no-ops.
    "approvals-deadlines-sweep": {
        "task": "approvals.approval_deadlines_sweep",
        "schedule": crontab(minute="*/15"),
    },
    # Re-send auditors' export jobs still queued after 10 minutes (a lost message).
    "oversight-export-jobs-sweep": {
        "task": "oversight.export_jobs_sweep",
        "schedule": crontab(minute="*/10"),
    },
    # Exemption cases: open for loans gone bad, flag past-deadline ones, close after appeals.
    "oversight-exemption-cases-sweep-daily": {
        "task": "oversight.exemption_cases_sweep",
        "schedule": crontab(hour=5, minute=40),
    },
    # Re-queue applications whose accepted investigation still has no score (lost messages).
    "scoring-score-sweep": {
        "task": "scoring.score_sweep",
        "schedule": crontab(minute="*/2"),
    },
    # PSI of recent scores against the champion's training data; alerts above policy.
    "scoring-drift-check-daily": {
        "task": "scoring.drift_check",
        "schedule": crontab(hour=4, minute=20),
    },
    # Scheduled off-site refreshes of external data for loans on the book (apps/datahub).
    "datahub-refresh-daily": {
        "task": "datahub.refresh_sweep",
        "schedule": crontab(hour=1, minute=40),
    },
    # The audit events of the data hub's cache answers, written in bulk (apps/datahub/cache.py).
    "datahub-cache-hits-audit": {
        "task": "datahub.cache_hits_audit",
        "schedule": crontab(minute="*"),
    },
    # Pulls whose worker died mid-query or whose message was lost, sent again
    # (apps/datahub/sweep.py; DATAHUB_PULL_LOST_MINUTES).
    "datahub-pull-sweep": {
        "task": "datahub.pull_sweep",
        "schedule": crontab(minute="*/2"),
    },
    # The dashboards' summaries (apps/insight/summaries.py): the audit events since the last
    # run, from a watermark; the pipeline page adds the few since, so it is never stale.
    "insight-summaries-refresh": {
        "task": "insight.summaries_refresh",
        "schedule": crontab(minute="*"),
    },
    # Pending loans whose value date has come become active (idempotent; catches up missed days).
    "loans-activate-due-daily": {
        "task": "loans.loans_activate_due",
        "schedule": crontab(hour=0, minute=10),
    },
    # Monthly five-category classification and signal run (§5.3): one sweep enqueues chunks.
    "monitoring-classification-monthly": {
        "task": "monitoring.classification_run_start",
        # After the nightly DPD recomputation (01:30) has had time to finish its chunks.
        "schedule": crontab(day_of_month=1, hour=4, minute=40),
    },
    # Re-send classification chunks whose message was lost (pending past policy minutes).
    "monitoring-classification-chunks-reconcile": {
        "task": "monitoring.classification_chunks_reconcile",
        "schedule": crontab(minute="*/10"),
    },
    # Mandatory actions past their deadline become overdue (§4.4 SLA).
    "monitoring-actions-overdue-daily": {
        "task": "monitoring.actions_overdue_sweep",
        "schedule": crontab(hour=6, minute=10),
    },
    # Post-loan inspections: generate due schedules (idempotent) and mark/escalate overdue ones.
    "monitoring-inspection-sweep-daily": {
        "task": "monitoring.inspection_sweep",
        "schedule": crontab(hour=0, minute=40),
    },
    # Covenant checks and annual reviews: schedule from policy, remind, mark overdue (W26) and
    # escalate to the branch head; each notice is stamped and unique, so reruns are no-ops.
    "monitoring-covenant-sweep-daily": {
        "task": "monitoring.covenant_sweep",
        "schedule": crontab(hour=0, minute=50),
    },
    # Days past due of every open loan, recomputed from scratch in chunks (the day moved on,
    # due dates passed); after midnight, once the core's end-of-day feed is in.
    "loans-dpd-recompute-nightly": {
        "task": "loans.dpd_recompute_sweep",
        "schedule": crontab(hour=1, minute=30),
    },
}

# --- Logging: one line per event, JSON in production, with the request id on every line -------
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
