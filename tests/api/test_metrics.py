"""/metrics: django-prometheus' HTTP metrics and the operational ones, which must equal what the
database and Pulsar hold at the time of the scrape."""

from datetime import timedelta

import pulsar
import pytest
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from alpespartners.messaging import pulsar_transport
from alpespartners.messaging.models import OutboxMessage
from alpespartners.messaging.pulsar_consumer import subscription_name
from tests import factories
from tests.factories import ClienteNaturalBody
from tests.pulsar_helpers import skip_backlog

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_services")]


def scrape() -> dict:
    """{(name, sorted labels): value} of every sample /metrics answers (anonymous, as Prometheus scrapes)."""
    answer = APIClient().get("/metrics")
    assert answer.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.content.decode()) for sample in family.samples}


def test_metrics_report_commands_outbox_payouts_and_http(api, eager_commands):
    # given a command executed (its events wait in the outbox: no relay runs here) and two failed payouts
    done = api.post("/api/v1/clientes", ClienteNaturalBody(), format="json", HTTP_PREFER="wait=5")
    assert done.status_code == 201
    factories.PayoutFactory.create_batch(2, monto_total="12500.50", estado="FALLIDO")
    factories.PayoutFactory(monto_total="700", moneda="USD", estado="PAGADO")

    metrics = scrape()

    assert metrics[("alpespartners_commands", (("status", "PENDIENTE"),))] == 0
    assert metrics[("alpespartners_commands", (("status", "FALLIDO"),))] == 0
    assert metrics[("alpespartners_commands_recent",
                    (("context", "cliente"), ("status", "COMPLETADO"), ("type", "RegistrarCliente")))] == 1
    assert 0 < metrics[("alpespartners_command_latency_seconds", (("quantile", "0.5"), ("type", "RegistrarCliente")))] < 5
    pending = OutboxMessage.objects.filter(published_at__isnull=True).count()
    assert pending >= 1 and metrics[("alpespartners_outbox_pending", ())] == pending
    assert metrics[("alpespartners_outbox_oldest_pending_age_seconds", ())] > 0
    assert metrics[("alpespartners_relay_events_per_second", ())] == 0
    assert metrics[("alpespartners_payouts", (("estado", "FALLIDO"), ("moneda", "COP")))] == 2
    assert metrics[("alpespartners_payouts_amount", (("estado", "FALLIDO"), ("moneda", "COP")))] == 25001.0
    assert metrics[("alpespartners_payouts_amount", (("estado", "PAGADO"), ("moneda", "USD")))] == 700
    assert metrics[("django_http_responses_total_by_status_total", (("status", "201"),))] >= 1


def test_metrics_report_webhook_deliveries_waiting_and_endpoints_disabled():
    factories.EntregaFactory.create_batch(2, estado="PENDIENTE", fecha_creacion=timezone.now() - timedelta(minutes=3))
    factories.EntregaFactory(estado="ENTREGADA")
    factories.EndpointFactory(activo=False, deshabilitado_en=timezone.now())
    factories.EndpointFactory(activo=False)  # switched off by its client: not a failure to flag

    metrics = scrape()

    assert metrics[("alpespartners_webhook_deliveries_pending", ())] == 2
    assert 180 <= metrics[("alpespartners_webhook_oldest_pending_age_seconds", ())] < 240
    assert metrics[("alpespartners_webhook_endpoints_disabled", ())] == 1


def test_consumer_backlog_is_what_waits_on_pulsar():
    # given the pagos subscription on eventos.cliente, caught up
    client = pulsar.Client(settings.PULSAR_URL, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error))
    topic = pulsar_transport.topic_name("eventos.cliente")
    client.subscribe(topic, subscription_name("pagos"), consumer_type=pulsar.ConsumerType.KeyShared).close()
    skip_backlog(["pagos"])
    key = ("alpespartners_consumer_backlog", (("consumer", "pagos"), ("topic", "eventos.cliente")))
    assert scrape()[key] == 0
    # when three messages arrive that no consumer reads
    producer = client.create_producer(topic)
    for number in range(3):
        producer.send(b"{}", partition_key=str(number))
    client.close()
    # then the backlog shows them
    assert scrape()[key] == 3
    skip_backlog(["pagos"])


def test_a_scrape_answers_when_pulsar_s_admin_api_does_not(settings):
    settings.PULSAR_ADMIN_URL = "http://127.0.0.1:1"  # nothing listens there
    metrics = scrape()
    assert ("alpespartners_outbox_pending", ()) in metrics
    assert not any(name == "alpespartners_consumer_backlog" for name, _ in metrics)
