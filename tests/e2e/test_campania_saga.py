"""The approval saga over real Pulsar: API → worker → relay → Pulsar → consumers of campanias
and pagos → commands on comandos.pagos → back. Only the payment gateway is simulated."""

import random

import pytest

from alpespartners.messaging.models import InboxMessage, OutboxMessage
from campanias.models import CampaniaView, SagaAprobacionModel
from cliente.domain import digito_verificacion_nit
from campanias.tasks import vencer_sagas
from pagos.models import CobroView
from tests.conftest import celery_worker, manage, wait_until
from tests.factories import CampaniaBody, ClienteEmpresaBody
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

CONTEXTS = ["cliente", "campanias", "pagos", "webhooks"]  # `consume` with no argument runs them all


def accepted(answer) -> str:
    assert answer.status_code == 202, answer.content
    return answer.json()["resource_id"]


def marca(api, token: str) -> str:
    """A brand registered through the API, with `token` as its default payment method."""
    numero = f"{random.randrange(800_000_000, 999_999_999)}"
    body = ClienteEmpresaBody(nit=f"{numero}-{digito_verificacion_nit(numero)}")
    id_marca = accepted(api.post("/api/v1/clientes", body, format="json"))
    medio = {"tipo": "TARJETA", "token": token, "mascara": "**** 4242", "predeterminado": True}
    wait_until(lambda: api.get(f"/api/v1/clientes/{id_marca}").status_code == 200, 30, "the brand to be registered")
    # waited for: a charge is decided on what the brand had done before its campaign was created
    answer = api.post(f"/api/v1/clientes/{id_marca}/medios-pago", medio, format="json", HTTP_PREFER="wait=10")
    assert answer.status_code in (200, 201), answer.content
    return id_marca


def crear_campania(api, id_marca: str) -> str:
    # campanias learns of the brand from eventos.cliente; until then the command would be refused
    from campanias.models import ClienteLocal

    wait_until(lambda: ClienteLocal.objects.filter(id=id_marca).exists(), 30, "campanias to hear of the brand")
    return accepted(api.post("/api/v1/campanias", CampaniaBody(id_cliente=id_marca), format="json"))


def estado(id_campania: str, *states: str, timeout: float = 60) -> CampaniaView:
    return wait_until(
        lambda: (view := CampaniaView.objects.filter(id=id_campania, estado__in=states).first()) and view,
        timeout, f"campaign {id_campania} to reach {states}",
    )


def test_the_approval_saga_answers_every_gateway_outcome_and_compensates_a_reverted_charge(api, processes):
    # given the whole system running: a worker, the relay and a consumer for every context
    skip_backlog(CONTEXTS)
    worker = processes("worker", *celery_worker())
    processes("relay", *manage("relay"))
    consumer = processes("consumer", *manage("consume"))
    brands = {token: marca(api, token) for token in ("tok_ok", "tok_rechazado", "tok_inestable")}
    reverted_brand = marca(api, "tok_ok")
    from pagos.models import ClienteLocal as MarcaEnPagos

    wait_until(lambda: MarcaEnPagos.objects.exclude(token_predeterminado="").count() >= 4, 60,
               "pagos to know the brands' payment methods\n" + consumer.log())

    # when each brand creates a campaign
    campaigns = {token: crear_campania(api, id_marca) for token, id_marca in brands.items()}
    to_revert = crear_campania(api, reverted_brand)

    # then a good card approves, a declined one cancels with the reason, a flaky one approves after retries
    estado(campaigns["tok_ok"], "APROBADA")
    cancelled = estado(campaigns["tok_rechazado"], "CANCELADA")
    assert cancelled.motivo == "Cobro rechazado: Fondos insuficientes."
    estado(campaigns["tok_inestable"], "APROBADA")
    assert "ErrorTransitorioPasarela" in worker.log()
    assert CobroView.objects.get(id_campania=campaigns["tok_inestable"]).estado == "CONFIRMADO"

    # and reverting an approved campaign's charge cancels it as compensation
    estado(to_revert, "APROBADA")
    cobro = CobroView.objects.get(id_campania=to_revert)
    accepted(api.post(f"/api/v1/pagos/cobros/{cobro.id}/revertir", {"motivo": "contracargo del banco"}, format="json"))
    compensated = estado(to_revert, "CANCELADA")
    assert compensated.motivo == "Cobro revertido: contracargo del banco"
    assert SagaAprobacionModel.objects.get(id_campania=to_revert).estado == "COMPENSADA"
    for token, id_campania in campaigns.items():
        assert CobroView.objects.filter(id_campania=id_campania).count() == 1, token  # one charge per campaign


def saga_trace(id_campania) -> str:
    """Where the saga stopped, for a timeout's message: its steps, the charge, and the messages
    that left through the outbox and arrived through the inbox (this test has been flaky once)."""
    saga = SagaAprobacionModel.objects.filter(id_campania=id_campania).values("estado", "pasos").first()
    cobro = CobroView.objects.filter(id_campania=id_campania).values_list("estado", flat=True).first()
    outbox = list(OutboxMessage.objects.order_by("id").values_list("topic", "type", "published_at"))
    inbox = list(InboxMessage.objects.order_by("received_at").values_list("consumer", "type"))
    return f"saga {saga}; cobro {cobro}; outbox {outbox}; inbox {inbox}"


def test_no_answer_before_the_timeout_cancels_and_a_late_charge_is_refunded(api, processes):
    # given pagos is not consuming, and sagas time out after 2 s
    skip_backlog(CONTEXTS)
    processes("worker", *celery_worker(), CAMPANIAS_SAGA_TIMEOUT_SECONDS="2")
    processes("relay", *manage("relay"))
    processes("consumer", *manage("consume", "cliente", "campanias"))
    id_campania = crear_campania(api, marca(api, "tok_ok"))
    estado(id_campania, "PENDIENTE")

    # when the scheduled check runs after the timeout
    # `.result`, not `.get()`: eager tasks run concurrently by earlier tests can leave Celery's
    # process-wide "joining would block" flag set; throw=True still raises what the task raises.
    wait_until(lambda: vencer_sagas.apply(throw=True).result == 1, 30, "the saga to time out")

    # then the campaign is cancelled, saying why
    cancelled = estado(id_campania, "CANCELADA")
    assert cancelled.motivo == "El cobro no respondió en 2 s."

    # and when pagos comes back and the charge confirms late, the saga asks for the money back
    processes("consumer-pagos", *manage("consume", "pagos"))
    saga = wait_until(
        lambda: (row := SagaAprobacionModel.objects.filter(id_campania=id_campania, estado="REEMBOLSADA").first()) and row,
        90, "the late charge to be refunded", diagnose=lambda: saga_trace(id_campania),
    )
    assert [paso["estado"] for paso in saga.pasos] == ["ESPERANDO_COBRO", "CANCELADA", "REEMBOLSO_SOLICITADO", "REEMBOLSADA"]
    assert CobroView.objects.get(id_campania=id_campania).estado == "REVERTIDO"
    assert CampaniaView.objects.get(id=id_campania).estado == "CANCELADA"
