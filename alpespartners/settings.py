"""Settings from environment variables, each with an embedded default.

With nothing set the project runs on SQLite, Celery eager and the in-process transport
(`make demo`). With DATABASE_URL, CELERY_BROKER_URL and PULSAR_URL set it runs on
PostgreSQL, Redis and Apache Pulsar (production, CI).
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# DJANGO_ENV=production: secrets must come from the environment and HTTPS is enforced
# (`manage.py check --deploy` passes with no warning). Anything else is a developer's machine.
DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
if DJANGO_ENV not in ("development", "production"):  # "Production" must not quietly mean development
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "" if PRODUCTION else "insecure-development-key-set-DJANGO_SECRET_KEY-in-production")
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_ENV=production needs DJANGO_SECRET_KEY (50 characters or more) in the environment.")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")

# Proxies in front of the web process that append the address they received the request from to
# X-Forwarded-For. 0: none, the header is ignored (a client could write any address in it). Every
# limit keyed by address (API throttles, admin login lockout) reads it (alpespartners/client_address.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

if PRODUCTION:
    # TLS ends at the proxy in front. Docker compose, which has none and serves http://localhost:8000,
    # sets DJANGO_HTTPS_REDIRECT=false; only the check of that one setting is then silenced.
    SECURE_SSL_REDIRECT = env_bool("DJANGO_HTTPS_REDIRECT", True)
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]  # probes and scrapes speak plain HTTP inside
    # X-Forwarded-Proto, like X-Forwarded-For, is the client's word unless a proxy of ours wrote it.
    if TRUSTED_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [origin for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# A request body above this is refused with 413 before it is read (a batch of 1,000 conversions is ~300 KB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 1_048_576)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2_000

INSTALLED_APPS = [
    "alpespartners.apps.BackOfficeAdminConfig",  # django.contrib.admin, with the back office's home
    "alpespartners.apps.UsuariosConfig",  # django.contrib.auth, named in Spanish (alpespartners/apps.py)
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "alpespartners.apps.TareasProgramadasConfig",  # django_celery_beat
    "django_prometheus",
    "alpespartners.messaging",
    "alpespartners.access",
    "alpespartners.apps.BloqueoDeAccesosConfig",  # axes
    "cliente",
    "campanias",
    "pagos",
    "webhooks",
]

MIDDLEWARE = [
    "alpespartners.correlation.CorrelationIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "alpespartners.api.BodySizeLimitMiddleware",
    "alpespartners.api.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Innermost, as axes requires: it turns a locked-out login into its answer, which the
    # metrics above then count as the client gets it.
    "axes.middleware.AxesMiddleware",
]

# axes first: it refuses a locked-out login before any backend checks the password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "alpespartners.urls"
WSGI_APPLICATION = "alpespartners.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "alpespartners" / "templates"],
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
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Command handlers run on commit of the request's transaction; a generous timeout
    # keeps the single-writer SQLite of the demo from failing under the admin and API at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
USING_POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "es"
TIME_ZONE = "America/Bogota"
USE_I18N = True
USE_TZ = True
# Instants with seconds and the zone's offset on every admin page (alpespartners/formats/es).
FORMAT_MODULE_PATH = ["alpespartners.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Admin login lockout (django-axes) -------------------------------------------
# Failed logins are counted per user and, separately, per address: one account guessed from many
# addresses, or one address trying many accounts, is locked either way (a per user-and-address pair
# would let each new address start again). Kept in the database, so an operator unlocks from the
# admin (Axes › Access attempts: delete the row).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_COOLOFF_MINUTES", 15))
# Attempts while locked do not restart the wait, so the wait the lockout page announces holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "alpespartners.client_address.client_address"
AXES_LOCKOUT_TEMPLATE = "admin/acceso_bloqueado.html"

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "alpespartners.throttling.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["alpespartners.parsers.StrictJSONParser"],  # the contract is JSON; anything else is 415
    "DEFAULT_PAGINATION_CLASS": "alpespartners.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "alpespartners.api.error_handler",
    # Per user (token or session) and per anonymous IP; over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["alpespartners.throttling.UserThrottle", "alpespartners.throttling.AnonymousThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_USER", "6000/minute"),
        "anon": os.environ.get("API_THROTTLE_ANONYMOUS", "120/minute"),
        "failed_authentication": os.environ.get("API_THROTTLE_FAILED_AUTHENTICATION", "30/minute"),
        # A brand's postbacks (pagos/api/postbacks.py), counted per brand: its server, not a person.
        "postback": os.environ.get("API_THROTTLE_POSTBACK", "6000/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Alpes Partners API",
    "DESCRIPTION": "Partner-marketing platform: clients, campaigns, commissions and payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per set of values, shared by a list's filter and its rows' field (Swagger UI shows the values).
    "ENUM_NAME_OVERRIDES": {
        "ConversionInputTipoEnum": "pagos.domain.TipoConversion",
        "EstadoClienteEnum": "cliente.domain.EstadoCliente",
        "EstadoCampaniaEnum": "campanias.domain.EstadoCampania",
        "EstadoCobroEnum": "pagos.domain.EstadoPago",
        "EstadoTransaccionEnum": "pagos.domain.EstadoTransaccion",
        "EstadoCicloEnum": "pagos.domain.EstadoCiclo",
        "EstadoPayoutEnum": "pagos.domain.EstadoPayout",
        "EstadoEntregaEnum": "webhooks.models.EstadoEntrega",
        "EstadoComandoEnum": "alpespartners.messaging.models.CommandStatus",
    },
    # Swagger UI groups operations by these tags, in this order (alpespartners/api_schema.py tags each one).
    "TAGS": [
        {"name": "clientes", "description": "Marcas y socios: registro, datos, medios de pago, suspensión."},
        {"name": "campañas", "description": "Campañas, su ciclo de vida, socios inscritos y enlaces de seguimiento."},
        {"name": "cobros", "description": "El cobro de cada campaña a su marca."},
        {"name": "conversiones", "description": "Conversiones, postbacks y las comisiones que generan."},
        {"name": "payouts", "description": "Ciclos de pago y payouts a los socios."},
        {"name": "reportes", "description": "Rendimiento por día, campaña y socio."},
        {"name": "webhooks", "description": "Endpoints que reciben los eventos del cliente, sus entregas y reenvíos."},
        {"name": "comandos", "description": "El estado de un comando aceptado (202)."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alpespartners.api_schema.add_contract_details",
        "alpespartners.api_schema.group_by_area",
    ],
}

# Throttling counters and other shared state: Redis when CACHE_URL is set (every web process
# counts against the same limit), else this process's memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
    if os.environ.get("CACHE_URL") else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL" not in os.environ)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "alpespartners.beat:Scheduler"  # django-celery-beat's DatabaseScheduler, safe to stop
# No CELERY_BEAT_SCHEDULE: beat would rewrite its entries at every start, undoing edits made in the
# admin. Each app's data migration creates its periodic tasks once (alpespartners/schedules.py).

# --- Messaging --------------------------------------------------------------
# Unset: the in-process transport delivers committed outbox rows to local consumers.
PULSAR_URL = os.environ.get("PULSAR_URL", "")
PULSAR_ADMIN_URL = os.environ.get("PULSAR_ADMIN_URL", "http://127.0.0.1:8080")
PULSAR_TENANT_NAMESPACE = os.environ.get("PULSAR_NAMESPACE", "public/default")
RELAY_BATCH_SIZE = env_int("RELAY_BATCH_SIZE", 1000)
RELAY_POLL_SECONDS = float(os.environ.get("RELAY_POLL_SECONDS", "1.0"))
CONSUMER_MAX_REDELIVERIES = env_int("CONSUMER_MAX_REDELIVERIES", 5)
CONSUMER_NEGATIVE_ACK_DELAY_MS = env_int("CONSUMER_NEGATIVE_ACK_DELAY_MS", 1000)
# Messages a consumer applies in one transaction (whatever is already waiting, up to this).
CONSUMER_BATCH_SIZE = env_int("CONSUMER_BATCH_SIZE", 500)
# A command whose context has not applied the events it depends on waits (PENDIENTE) at most this
# long, then fails as dependencia_pendiente (alpespartners/messaging/dependencies.py).
COMMAND_DEPENDENCY_TIMEOUT_SECONDS = env_int("COMMAND_DEPENDENCY_TIMEOUT_SECONDS", 300)
# A command PENDIENTE this long may have lost its task (a broker restarted without its queue, a web
# process killed between commit and enqueue): the sweep (messaging.reenqueue_stranded_commands)
# enqueues it again, up to COMMAND_SWEEP_MAX per run.
COMMAND_SWEEP_AFTER_SECONDS = env_int("COMMAND_SWEEP_AFTER_SECONDS", 60)
COMMAND_SWEEP_MAX = env_int("COMMAND_SWEEP_MAX", 2000)
# Single commands of a type decided together (pagos: RegistrarConversion) in one transaction: at most this many.
COMMANDS_DECIDED_TOGETHER_MAX = env_int("COMMANDS_DECIDED_TOGETHER_MAX", 500)
# ...after waiting this long for others to arrive (the latency a single conversion pays for it).
COMMANDS_DECIDED_TOGETHER_LINGER_SECONDS = float(os.environ.get("COMMANDS_DECIDED_TOGETHER_LINGER_SECONDS", "0.1"))
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 7)
INBOX_RETENTION_DAYS = env_int("INBOX_RETENTION_DAYS", 30)

# One JSON object per line (LOG_FORMAT=plain for a terminal), each with the correlation_id of the
# request, command or message it belongs to (alpespartners/correlation.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(process)d %(message)s %(correlation_id)s",
            "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
            "timestamp": "time",  # ISO 8601, UTC
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": os.environ.get("LOG_FORMAT", "json")},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pulsar": {"level": "WARNING"},
        # Its lines would repeat the request log's; errors still reach the root handler.
        "django.request": {"level": "ERROR"},
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING, as JSON

# The contexts this deployment runs; messaging reads each one's integration.py.
BOUNDED_CONTEXTS = ["cliente", "campanias", "pagos", "webhooks"]
RELAY_PRODUCER_NAME = os.environ.get("RELAY_PRODUCER_NAME", "alpespartners-relay")

# --- campanias --------------------------------------------------------------
CAMPANIAS_SNAPSHOT_EVERY = env_int("CAMPANIAS_SNAPSHOT_EVERY", 50)  # a snapshot every N events
# A campaign whose charge has no answer after this long is cancelled (the approval saga's timeout).
CAMPANIAS_SAGA_TIMEOUT_SECONDS = env_int("CAMPANIAS_SAGA_TIMEOUT_SECONDS", 900)

# --- pagos ------------------------------------------------------------------
PASARELA_PAGOS = os.environ.get("PASARELA_PAGOS", "simulada")  # the PasarelaPagos adapter
# The least a partner is paid in each currency; below it, commissions wait for a later cycle.
# PAGOS_MONTOS_MINIMOS="COP=20000,USD=10" overrides; a currency not listed has no minimum.
PAGOS_MONTOS_MINIMOS = {
    moneda.strip(): Decimal(valor)
    for moneda, valor in (item.split("=") for item in os.environ.get("PAGOS_MONTOS_MINIMOS", "COP=10000,USD=5,EUR=5").split(","))
}
# Payout cycles run daily at 02:00 in TIME_ZONE from a periodic task created by migration pagos
# 0004, edited in the admin afterwards.

# Clicks and impressions (GET /t/{codigo}): buffered per web process and written in batches
# (alpespartners/write_behind.py): a crash loses at most CLICKS_FLUSH_SECONDS of one process.
CLICKS_FLUSH_SECONDS = float(os.environ.get("CLICKS_FLUSH_SECONDS", "0.5"))
CLICKS_FLUSH_ROWS = env_int("CLICKS_FLUSH_ROWS", 1000)  # written at once when this many wait
CLICKS_BUFFER_MAX_ROWS = env_int("CLICKS_BUFFER_MAX_ROWS", 200_000)  # kept while the database is away
# How long a process trusts its copy of a link (and of an unknown code): a retired link or a paused
# campaign is seen at most this late.
CLICKS_ENLACE_CACHE_SECONDS = float(os.environ.get("CLICKS_ENLACE_CACHE_SECONDS", "5"))
CLICKS_ENLACE_CACHE_MAX = env_int("CLICKS_ENLACE_CACHE_MAX", 50_000)
# A second click of the same visitor on the same link within this window is not billable.
CLICKS_REPETICION_SEGUNDOS = env_int("CLICKS_REPETICION_SEGUNDOS", 30)
# The key of the visitor's hash (address + user agent); never stored, so a leak of Redis names no one.
CLICKS_VISITANTE_SECRETO = os.environ.get("CLICKS_VISITANTE_SECRETO", "") or f"clicks:{SECRET_KEY}"

# Webhooks (webhooks/): the `consume webhooks` process turns events into deliveries, the
# `entregar_webhooks` process sends them.
# Loopback URLs (and plain http to them) are refused like private ones, except where this is set:
# tests and benchmarks, whose receivers listen on 127.0.0.1. Never in production.
WEBHOOKS_PERMITIR_LOOPBACK = env_bool("WEBHOOKS_PERMITIR_LOOPBACK", False)
WEBHOOKS_TIMEOUT_SEGUNDOS = float(os.environ.get("WEBHOOKS_TIMEOUT_SEGUNDOS", "10"))  # connect, then read
# Failed attempts wait INICIAL·2ⁿ⁻¹ (at most MAXIMO) times a random 0.5–1, for PLAZO after the event
# (or its replay); then the delivery is FALLIDA.
WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS = float(os.environ.get("WEBHOOKS_REINTENTO_INICIAL_SEGUNDOS", "30"))
WEBHOOKS_REINTENTO_MAXIMO_SEGUNDOS = float(os.environ.get("WEBHOOKS_REINTENTO_MAXIMO_SEGUNDOS", "3600"))
WEBHOOKS_PLAZO_SEGUNDOS = float(os.environ.get("WEBHOOKS_PLAZO_SEGUNDOS", str(24 * 3600)))
# An endpoint whose last this-many attempts all failed is disabled (and flagged on the admin's home).
WEBHOOKS_FALLOS_PARA_DESHABILITAR = env_int("WEBHOOKS_FALLOS_PARA_DESHABILITAR", 50)
# Deliveries and their attempts are kept this long: a replay cannot reach further back.
WEBHOOKS_RETENCION_DIAS = env_int("WEBHOOKS_RETENCION_DIAS", 30)
# The dispatcher's threads, and how many of them one endpoint may hold: a slow or dead endpoint
# holds at most POR_ENDPOINT, the others keep the rest.
WEBHOOKS_HILOS = env_int("WEBHOOKS_HILOS", 32)
WEBHOOKS_POR_ENDPOINT = env_int("WEBHOOKS_POR_ENDPOINT", 4)
WEBHOOKS_ESPERA_SEGUNDOS = float(os.environ.get("WEBHOOKS_ESPERA_SEGUNDOS", "1.0"))  # poll when no NOTIFY comes
