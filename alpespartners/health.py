"""Liveness and readiness probes: `/health` (the process answers) and `/ready` (each dependency,
with the reason when it is not; 503 when the database, the broker or Pulsar is away — the cache is
reported but optional, since requests pass unthrottled without it)."""

import urllib.request

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from redis.exceptions import RedisError

from alpespartners.celery import app as celery_app


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    checks = {"database": _check_database(), "broker": _check_broker(), "pulsar": _check_pulsar(), "cache": _check_cache()}
    ok = all(checks[name]["ok"] for name in ("database", "broker", "pulsar"))
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as error:  # any failure means not ready; the reason is for operators
        return {"ok": False, "reason": type(error).__name__}


def _check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager"}
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True}
    except Exception as error:
        return {"ok": False, "reason": type(error).__name__}


def _check_cache() -> dict:
    """The cache that counts throttled requests (Redis with CACHE_URL). Requests still pass without
    it, unthrottled, so it is reported but does not fail the probe."""
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return {"ok": True, "mode": "local-memory"}
    try:
        cache.set("ready-probe", 1, timeout=5)
        return {"ok": cache.get("ready-probe") == 1}
    except (RedisError, OSError) as error:
        return {"ok": False, "reason": type(error).__name__}


def _check_pulsar() -> dict:
    if not settings.PULSAR_URL:
        return {"ok": True, "mode": "in-process"}
    try:
        with urllib.request.urlopen(f"{settings.PULSAR_ADMIN_URL}/admin/v2/brokers/health", timeout=2) as answer:
            return {"ok": answer.status == 200}
    except OSError as error:
        return {"ok": False, "reason": type(error).__name__}
