"""cliente and campanias reacting to eventos.pagos on PostgreSQL, through the real consumer path
(inbox, handler, Unit of Work): partners' payout totals, campaigns' budget and the budget pause."""

import logging
import threading
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from alpespartners.messaging.models import InboxMessage, OutboxMessage
from alpespartners.seedwork.domain import Monto
from campanias import projections
from campanias import repository as campanias_repository
from campanias.domain import Campania
from campanias.models import CampaniaView, EventoCampania, PresupuestoConsumido
from cliente import commands as cliente_commands
from cliente import handlers as cliente_handlers
from cliente import bootstrap as cliente_bootstrap
from cliente.models import ClienteView
from tests import events

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

HOY = date.today()


# --- cliente: PayoutExitoso → total_pagos, ultimo_pago -------------------------------


def socio_registrado() -> uuid.UUID:
    id_socio = uuid.uuid4()
    cedula = str(uuid.uuid4().int)[:10]
    cliente_handlers.registrar_cliente(cliente_commands.RegistrarCliente(
        id=id_socio, tipo="NATURAL", nombre="Socia", email=f"{id_socio}@correo.co", cedula=cedula,
        fecha_nacimiento=date(1990, 5, 17),
    ), cliente_bootstrap.unit_of_work())
    return id_socio


def payout_exitoso(id_socio, valor: str, moneda: str, occurred_at: str) -> dict:
    mensaje = events.envelope("PayoutExitoso", uuid.uuid4(), {
        "id_socio": str(id_socio), "monto_total": {"valor": valor, "moneda": moneda}, "confirmacion": "pago-1",
    })
    return {**mensaje, "occurred_at": occurred_at}


def test_successful_payouts_add_up_per_currency_and_the_latest_one_is_the_last_payment():
    # given a partner cliente knows
    id_socio = socio_registrado()
    # when two payouts in COP and one in USD arrive, the latest one first
    for mensaje in [payout_exitoso(id_socio, "53.78", "COP", "2026-03-02T10:00:00Z"),
                    payout_exitoso(id_socio, "23.11", "COP", "2026-03-01T10:00:00Z"),
                    payout_exitoso(id_socio, "0.10", "USD", "2026-03-01T12:00:00Z")]:
        assert events.deliver("cliente", "eventos.pagos", mensaje) is True
    # then one exact total per currency, and the last payment is the latest payout
    view = ClienteView.objects.get(id=id_socio)
    assert view.total_pagos == [{"valor": "76.89", "moneda": "COP"}, {"valor": "0.10", "moneda": "USD"}]
    assert view.ultimo_pago == datetime(2026, 3, 2, 10, tzinfo=timezone.utc)


def test_a_payout_delivered_twice_is_counted_once():
    # given a partner paid once
    id_socio = socio_registrado()
    mensaje = payout_exitoso(id_socio, "0.10", "COP", "2026-03-01T10:00:00Z")
    events.deliver("cliente", "eventos.pagos", mensaje)
    # when the same payout arrives again
    applied = events.deliver("cliente", "eventos.pagos", mensaje)
    # then the inbox skips it
    assert applied is False
    assert ClienteView.objects.get(id=id_socio).total_pagos == [{"valor": "0.10", "moneda": "COP"}]


def test_a_payout_for_a_partner_cliente_does_not_know_writes_nothing_and_is_not_an_error(caplog):
    # given a known partner, who must stay untouched
    id_socio = socio_registrado()
    before, outbox_before = list(ClienteView.objects.values()), OutboxMessage.objects.count()
    desconocido = uuid.uuid4()
    # when a payout for someone else arrives
    with caplog.at_level(logging.WARNING, logger="cliente.handlers"):
        applied = events.deliver("cliente", "eventos.pagos", payout_exitoso(desconocido, "53.78", "COP",
                                                                              "2026-03-01T10:00:00Z"))
    # then it is consumed (not dead-lettered), with a warning, and no read model or outbox row changes
    assert applied is True
    assert str(desconocido) in caplog.text
    assert list(ClienteView.objects.values()) == before and not ClienteView.objects.filter(id=desconocido).exists()
    assert OutboxMessage.objects.count() == outbox_before
    assert ClienteView.objects.get(id=id_socio).total_pagos == [] and ClienteView.objects.get(id=id_socio).ultimo_pago is None


# --- campanias: commissions → presupuesto_disponible; PresupuestoAgotado → pause -------


def campania(presupuesto: str = "5000.00", id_campania=None, estado: str = "APROBADA") -> Campania:
    """A campaign written straight through the store and its projection, as a handler's Unit of Work does."""
    nueva = Campania.crear(
        id_campania or uuid.uuid4(), id_cliente=uuid.uuid4(), estado_marca="ACTIVO", nombre="Navidad", hoy=HOY,
        presupuesto=Monto(Decimal(presupuesto), "COP"), fecha_inicio=HOY, fecha_fin=HOY + timedelta(days=30),
    )
    nueva.aprobar(uuid.uuid4())
    if estado == "PAUSADA":
        nueva.pausar("Revisión de la marca.")
    elif estado == "FINALIZADA":
        nueva.finalizar("Fin de temporada.")
    with transaction.atomic():
        campanias_repository.save(nueva)
        for event in nueva.pull_events():
            projections.project(event)
    return nueva


def comision(type: str, id_campania, valor: str, id_externo: str) -> dict:
    data = {"id_campania": str(id_campania), "id_socio": str(uuid.uuid4()), "id_externo": id_externo,
            "comision": {"valor": valor, "moneda": "COP"}}
    if type == "ComisionRegistrada":
        data |= {"tipo": "VENTA", "monto_conversion": {"valor": "400.00", "moneda": "COP"},
                 "ocurrida_en": "2026-03-01T10:00:00Z", "pagable_desde": "2026-03-31T10:00:00Z"}
    else:
        data |= {"motivo": "Devolución", "ajuste": None}
    # The transaction's id is the key: its registration and reversal share it.
    return events.envelope(type, uuid.uuid5(id_campania, id_externo), data)


def disponible(id_campania) -> Decimal:
    return CampaniaView.objects.get(id=id_campania).presupuesto_disponible


def test_commissions_consume_the_budget_a_reversal_returns_it_and_a_rebuild_keeps_it():
    # given an approved campaign of 5000.00 COP
    id_campania = campania("5000.00").id
    # when two commissions are registered, one delivered twice, and the first is reverted
    venta = comision("ComisionRegistrada", id_campania, "20.00", "venta-1")
    for mensaje in [venta, venta, comision("ComisionRegistrada", id_campania, "30.67", "venta-2"),
                    comision("ComisionRevertida", id_campania, "20.00", "venta-1")]:
        events.deliver("campanias", "eventos.pagos", mensaje)
    # then only the second one is consumed, to the cent
    assert disponible(id_campania) == Decimal("4969.33")
    assert PresupuestoConsumido.objects.get(id_campania=id_campania).consumido == Decimal("30.67")
    # and the campaign's own state and version are not touched by pagos' commissions
    view = CampaniaView.objects.get(id=id_campania)
    assert (view.estado, view.version) == ("APROBADA", 2)
    before = list(CampaniaView.objects.values())
    # when the read models are rebuilt from campanias' store
    call_command("rebuild_projections", "campanias")
    # then the budget left is the same, and so is every other column
    assert disponible(id_campania) == Decimal("4969.33")
    assert list(CampaniaView.objects.values()) == before


def test_a_commission_delivered_before_its_campaign_exists_is_reflected_when_the_campaign_is_created():
    # given a commission for a campaign campanias has no row for yet
    id_campania = uuid.uuid4()
    events.deliver("campanias", "eventos.pagos", comision("ComisionRegistrada", id_campania, "0.10", "click-1"))
    assert not CampaniaView.objects.filter(id=id_campania).exists()
    # when the campaign is created
    campania("100.00", id_campania=id_campania)
    # then its budget left already counts the commission
    assert disponible(id_campania) == Decimal("99.90")


def presupuesto_agotado(id_campania) -> dict:
    return events.envelope("PresupuestoAgotado", id_campania, {
        "id_campania": str(id_campania), "presupuesto": {"valor": "5000.00", "moneda": "COP"},
        "disponible": {"valor": "0.05", "moneda": "COP"},
    })


def campaign_events(id_campania) -> list[tuple[str, dict]]:
    return [(row.type, row.data) for row in EventoCampania.objects.filter(aggregate_id=id_campania).order_by("version")]


def test_an_exhausted_budget_pauses_an_approved_campaign_once():
    # given an approved campaign
    id_campania = campania().id
    agotado = presupuesto_agotado(id_campania)
    # when pagos reports its budget exhausted, twice (a redelivery)
    assert events.deliver("campanias", "eventos.pagos", agotado) is True
    assert events.deliver("campanias", "eventos.pagos", agotado) is False
    # then the campaign is paused once, in its store, its read model and the outbox
    assert campaign_events(id_campania)[2:] == [("CampaniaPausada", {"motivo": "Presupuesto agotado."})]
    stored = EventoCampania.objects.get(aggregate_id=id_campania, type="CampaniaPausada")
    assert str(stored.causation_id) == agotado["id"] and str(stored.correlation_id) == agotado["correlation_id"]
    view = CampaniaView.objects.get(id=id_campania)
    assert (view.estado, view.motivo, view.version) == ("PAUSADA", "Presupuesto agotado.", 3)
    outbox = OutboxMessage.objects.get(topic="eventos.campanias")
    assert outbox.type == "CampaniaPausada" and outbox.event_id == stored.event_id
    assert outbox.envelope["data"] == {"motivo": "Presupuesto agotado."}


@pytest.mark.parametrize("estado", ["PAUSADA", "FINALIZADA"])
def test_an_exhausted_budget_leaves_a_campaign_that_is_not_approved_as_it_is(estado):
    # given a campaign the brand already paused, or that finished
    id_campania = campania(estado=estado).id
    before_events, before_view = campaign_events(id_campania), list(CampaniaView.objects.values())
    # when pagos reports its budget exhausted
    applied = events.deliver("campanias", "eventos.pagos", presupuesto_agotado(id_campania))
    # then the message is consumed and nothing else is written
    assert applied is True and InboxMessage.objects.filter(consumer="campanias", type="PresupuestoAgotado").count() == 1
    assert campaign_events(id_campania) == before_events
    assert list(CampaniaView.objects.values()) == before_view
    assert not OutboxMessage.objects.exists()


# --- concurrent deliveries -------------------------------------------------------------


def deliver_at_once(context: str, batches: list[list[dict]]) -> None:
    """Each batch delivered by its own thread (its own connection), all starting together."""
    start, errors = threading.Barrier(len(batches)), []

    def consumer(batch):
        try:
            start.wait()
            for mensaje in batch:
                events.deliver(context, "eventos.pagos", mensaje)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=consumer, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_lose_no_payout_and_no_commission():
    # given a partner, and a campaign whose first commissions race to create its consumption row
    id_socio, id_campania = socio_registrado(), uuid.uuid4()
    # when three consumers apply ten payouts and ten commissions each at the same time
    deliver_at_once("cliente", [[payout_exitoso(id_socio, "0.01", "COP", "2026-03-01T10:00:00Z") for _ in range(10)]
                                for _ in range(3)])
    deliver_at_once("campanias", [[comision("ComisionRegistrada", id_campania, "0.01", f"{consumer}-{number}")
                                   for number in range(10)] for consumer in range(3)])
    # then every one of them is counted
    assert ClienteView.objects.get(id=id_socio).total_pagos == [{"valor": "0.30", "moneda": "COP"}]
    assert PresupuestoConsumido.objects.get(id_campania=id_campania).consumido == Decimal("0.30")
