"""Operational metrics read at scrape time, for `/metrics` next to django-prometheus' HTTP metrics.

They come from the database and the Pulsar admin API, not from counters in one process: commands
run in workers, events leave from the relay and arrive in consumers — on other machines too — and
what an operator needs is the system's state (what waits, how old, how fast it drains). The
contexts' gauges (pagos: payouts) come from alpespartners.registry, registered in their
AppConfig.ready().
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from alpespartners import registry
from alpespartners.messaging import queries as messaging_queries

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)  # recent commands: rates and latencies over this window
RELAY_RATE_WINDOW = timedelta(minutes=1)
LATENCY_QUANTILES = (0.5, 0.95, 0.99)


def metrics_view(request):
    """GET /metrics. Under gunicorn (alpespartners/gunicorn_conf.py) every worker writes its HTTP
    counters to PROMETHEUS_MULTIPROC_DIR and the scrape adds them up; the operational gauges are
    read once, by the process that answers."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(OperationsCollector())
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class OperationsCollector(Collector):
    def describe(self):
        return []  # else registering it would run collect(): queries while Django starts

    def collect(self):
        try:
            yield from self._commands()
            yield from self._outbox()
            for collect in registry.metric_collectors():
                yield from collect()
        except Exception as error:  # a scrape must answer even when the database does not
            logger.warning("metrics: database unavailable (%s)", type(error).__name__)
        yield from self._consumers()

    def _commands(self):
        since = timezone.now() - WINDOW
        recent = GaugeMetricFamily("alpespartners_commands_recent", f"Commands created in the last {WINDOW.seconds // 60} minutes, by context, type and status.",
                                   labels=["context", "type", "status"])
        for row in messaging_queries.recent_commands(since):
            recent.add_metric([row["context"], row["type"], row["status"]], row["total"])
        yield recent
        by_status = GaugeMetricFamily("alpespartners_commands", "Commands PENDIENTE (waiting for a worker) and FALLIDO (refused, or gave up) in the command log.",
                                      labels=["status"])
        for status, total in messaging_queries.unfinished_and_failed().items():
            by_status.add_metric([status], total)
        yield by_status
        if settings.USING_POSTGRESQL:
            yield self._command_latency(since)

    def _command_latency(self, since):
        latency = GaugeMetricFamily("alpespartners_command_latency_seconds", "From accepted to executed, over commands completed in the window.",
                                    labels=["type", "quantile"])
        for command_type, values in messaging_queries.latency_quantiles(since, LATENCY_QUANTILES):
            for quantile, value in zip(LATENCY_QUANTILES, values):
                latency.add_metric([command_type, str(quantile)], value)
        return latency

    def _outbox(self):
        now = timezone.now()
        pending = messaging_queries.outbox_pending()
        yield GaugeMetricFamily("alpespartners_outbox_pending", "Committed events the relay has not published yet.", value=pending["count"])
        age = (now - pending["oldest"]).total_seconds() if pending["oldest"] else 0
        yield GaugeMetricFamily("alpespartners_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event (the outbox lag).", value=age)
        published = messaging_queries.published_since(now - RELAY_RATE_WINDOW)
        yield GaugeMetricFamily("alpespartners_relay_events_per_second", "Events the relay published per second over the last minute.",
                                value=published / RELAY_RATE_WINDOW.total_seconds())
        yield self._dead_letters_pending()

    def _dead_letters_pending(self):
        pending = GaugeMetricFamily("alpespartners_dead_letters_pending", "Dead letters waiting for an operator to re-drive or discard them in the admin.",
                                    labels=["consumer"])
        for consumer, total in messaging_queries.dead_letters_pending().items():
            pending.add_metric([consumer], total)
        return pending

    def _consumers(self):
        """Messages waiting for each context's consumers, per topic (Pulsar's subscription backlog)."""
        if not settings.PULSAR_URL:
            return
        # Here: the Pulsar client library is loaded only where Pulsar is configured.
        from alpespartners.messaging import contexts, pulsar_transport
        from alpespartners.messaging.pulsar_consumer import subscription_name

        backlog = GaugeMetricFamily("alpespartners_consumer_backlog", "Messages not yet acknowledged by a context's consumers (consumer lag).",
                                    labels=["consumer", "topic"])
        try:
            for context in contexts.all_contexts():
                for topic in contexts.topics(context):
                    stats = topic_stats(pulsar_transport.topic_name(topic))
                    subscription = (stats or {}).get("subscriptions", {}).get(subscription_name(context))
                    if subscription is not None:
                        backlog.add_metric([context, topic], subscription.get("msgBacklog", 0))
        except OSError as error:  # Pulsar's admin API is down: one timeout, not one per topic
            logger.warning("metrics: Pulsar admin unavailable (%s)", type(error).__name__)
            return
        yield backlog


# A single-process scrape reads the default registry, next to django-prometheus' metrics. Registered
# once, when the URLconf first imports this module; nothing is queried now (describe() is empty).
REGISTRY.register(OperationsCollector())


def topic_stats(topic: str) -> dict | None:
    """The topic's stats, or None when it does not exist yet (404); other failures raise OSError."""
    path = topic.replace("persistent://", "persistent/")
    try:
        with urllib.request.urlopen(f"{settings.PULSAR_ADMIN_URL}/admin/v2/{path}/stats", timeout=2) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
