"""The whole journey over real Pulsar: clients → campaign approved → partners enrolled →
conversions → commissions → payout cycle → payouts through the gateway → cliente's totals.
API, worker, relay and consumers run as real processes; only the payment gateway is simulated."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alpespartners.messaging.models import CommandLog
from campanias.models import CampaniaView
from cliente.domain import digito_verificacion_nit
from pagos.models import ClienteLocal, Payout, SocioCampaniaLocal, Transaccion
from tests.conftest import celery_worker, manage, wait_until
from tests.e2e.test_campania_saga import accepted, estado
from tests.factories import CampaniaBody, ClienteEmpresaBody, ClienteNaturalBody
from tests.pulsar_helpers import skip_backlog

pytestmark = pytest.mark.real_services

CONTEXTS = ["cliente", "campanias", "pagos", "webhooks"]  # `consume` with no argument runs them all
TOKENS = ("tok_ok", "tok_rechazado", "tok_inestable")


def registrar_cliente(api, body: dict, token: str | None) -> str:
    id_cliente = accepted(api.post("/api/v1/clientes", body, format="json"))
    wait_until(lambda: api.get(f"/api/v1/clientes/{id_cliente}").status_code == 200, 30, "the client to be registered")
    if token:
        medio = {"tipo": "TARJETA", "token": token, "mascara": "**** 4242", "predeterminado": True}
        accepted(api.post(f"/api/v1/clientes/{id_cliente}/medios-pago", medio, format="json"))
    return id_cliente


def conversion(id_campania, id_socio, tipo: str, monto: str | None, id_externo: str) -> dict:
    body = {"id_externo": id_externo, "id_campania": id_campania, "id_socio": id_socio, "tipo": tipo,
            "ocurrida_en": (timezone.now() - timedelta(minutes=1)).isoformat()}
    if monto:
        body["monto"] = {"valor": monto, "moneda": "COP"}
    return body


def completed(command_id: str, timeout: float = 60) -> CommandLog:
    return wait_until(lambda: (entry := CommandLog.objects.filter(id=command_id).exclude(status="PENDIENTE").first())
                      and entry, timeout, f"command {command_id} to finish")


def test_brand_to_partners_payouts_and_their_totals_in_cliente(api, processes):
    # given the whole system running, payouts from 10.00 COP
    skip_backlog(CONTEXTS)
    worker = processes("worker", *celery_worker(), PAGOS_MONTOS_MINIMOS="COP=10")
    processes("relay", *manage("relay"))
    consumer = processes("consumer", *manage("consume"))

    # a brand, three partners (one per card behaviour) and one partner who never enrols
    numero = f"{random.randrange(800_000_000, 999_999_999)}"
    id_marca = registrar_cliente(api, ClienteEmpresaBody(nit=f"{numero}-{digito_verificacion_nit(numero)}"), "tok_ok")
    socios = {token: registrar_cliente(api, ClienteNaturalBody(), token) for token in TOKENS}
    intruso = registrar_cliente(api, ClienteNaturalBody(), "tok_ok")
    wait_until(lambda: ClienteLocal.objects.exclude(token_predeterminado="").count() == 5, 60,
               "pagos to know every payment method\n" + consumer.log())

    # a campaign of 100.00 COP without retention, approved once its charge confirms
    from campanias.models import ClienteLocal as ClienteEnCampanias

    wait_until(lambda: ClienteEnCampanias.objects.count() == 5, 30, "campanias to know the clients")
    id_campania = accepted(api.post("/api/v1/campanias", CampaniaBody(
        id_cliente=id_marca, presupuesto={"valor": "100.00", "moneda": "COP"}, dias_retencion=0), format="json"))
    estado(id_campania, "APROBADA")
    for id_socio in socios.values():
        accepted(api.post(f"/api/v1/campanias/{id_campania}/socios", {"id_socio": id_socio}, format="json"))
    wait_until(lambda: SocioCampaniaLocal.objects.filter(id_campania=id_campania).count() == 3, 60,
               "pagos to know the enrolments")

    # when conversions of every type arrive in one batch: 23.11 COP per partner, a duplicate, an
    # intruder, a sale that spends the rest of the budget exactly, and one after it ran out
    lote = []
    for token, id_socio in socios.items():
        lote += [conversion(id_campania, id_socio, "VENTA", "400.00", f"{token}-venta"),  # 20.00
                 conversion(id_campania, id_socio, "CONVERSION", "100.00", f"{token}-alta"),  # 3.00
                 conversion(id_campania, id_socio, "CLICK", None, f"{token}-click"),  # 0.10
                 conversion(id_campania, id_socio, "IMPRESION", None, f"{token}-vista")]  # 0.01
    lote += [conversion(id_campania, socios["tok_ok"], "VENTA", "400.00", "tok_ok-venta"),  # duplicate
             conversion(id_campania, intruso, "VENTA", "400.00", "intruso-venta"),
             conversion(id_campania, socios["tok_ok"], "VENTA", "613.40", "tok_ok-venta-2"),  # 30.67: budget 0
             conversion(id_campania, socios["tok_ok"], "CLICK", None, "tok_ok-click-2")]
    answer = api.post("/api/v1/pagos/conversiones/lote", {"conversiones": lote}, format="json")
    result = completed(answer.json()["command_id"]).result

    # then each conversion has its result and reason
    assert (result["registradas"], result["duplicadas"], result["rechazadas"]) == (13, 1, 2), result
    rechazos = {item["id_externo"]: item["codigo"] for item in result["resultados"] if item["resultado"] == "RECHAZADA"}
    assert rechazos == {"intruso-venta": "socio_no_inscrito", "tok_ok-click-2": "presupuesto_agotado"}
    # and the exhausted budget paused the campaign in campanias, which shows what is left
    pausada = estado(id_campania, "PAUSADA")
    assert pausada.presupuesto_disponible == 0

    # when the payout cycle runs
    id_ciclo = accepted(api.post("/api/v1/pagos/ciclos", {}, format="json"))
    wait_until(lambda: Payout.objects.filter(id_ciclo=id_ciclo, estado__in=["EXITOSO", "FALLIDO"]).count() == 3, 90,
               "the three payouts to be answered\n" + worker.log()[-3000:])

    # then a good card is paid, a declined one fails and frees its commissions, a flaky one is paid after retries
    payouts = {token: Payout.objects.get(id_ciclo=id_ciclo, id_socio=id_socio) for token, id_socio in socios.items()}
    assert {token: (p.estado, p.monto_total) for token, p in payouts.items()} == {
        "tok_ok": ("EXITOSO", Decimal("53.78")), "tok_rechazado": ("FALLIDO", Decimal("23.11")),
        "tok_inestable": ("EXITOSO", Decimal("23.11")),
    }
    assert payouts["tok_inestable"].intentos == 1 and "ErrorTransitorioPasarela" in worker.log()
    assert set(Transaccion.objects.filter(id_socio=socios["tok_rechazado"]).values_list("estado", flat=True)) == {"PAGABLE"}

    # and cliente's totals match the payouts to the cent
    def total_pagos(token):
        return api.get(f"/api/v1/clientes/{socios[token]}").json()["total_pagos"]

    wait_until(lambda: total_pagos("tok_ok") and total_pagos("tok_inestable"), 60, "cliente to hear of the payouts")
    assert total_pagos("tok_ok") == [{"valor": "53.78", "moneda": "COP"}]
    assert total_pagos("tok_inestable") == [{"valor": "23.11", "moneda": "COP"}]
    assert total_pagos("tok_rechazado") == []
    assert api.get(f"/api/v1/clientes/{socios['tok_ok']}").json()["ultimo_pago"] is not None
    assert CampaniaView.objects.get(id=id_campania).presupuesto_disponible == 0
