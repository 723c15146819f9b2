"""Loads and saves `Pago` aggregates, the local copies of clients and campaigns, and commissions;
database errors become domain errors here."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, QuerySet, Subquery, Sum

from alpespartners import bulk
from alpespartners.seedwork.domain import ConcurrencyConflict, DomainError, Monto, NotFound

from . import domain
from .domain import CampaniaVigente, CobroDuplicado, ComisionRegistrada, EstadoTransaccion, ClienteConocido, Pago, normalizar
from .models import (CampaniaLocal, CicloPago, Click, ClienteLocal, IntentoPayout, PagoModel, Payout, SocioCampaniaLocal,
                     Transaccion)


def get(id_pago: uuid.UUID) -> Pago:
    row = PagoModel.objects.filter(id=id_pago).first()
    if row is None:
        raise NotFound(f"No existe el cobro {id_pago}.", "id_pago")
    return _pago(row)


def por_campania(id_campania: uuid.UUID) -> Pago | None:
    row = PagoModel.objects.filter(id_campania=id_campania).first()
    return _pago(row) if row is not None else None


def _pago(row: PagoModel) -> Pago:
    return Pago(
        row.id, id_campania=row.id_campania, id_cliente=row.id_cliente, monto=normalizar(Monto(row.valor, row.moneda)),
        estado=row.estado, motivo=row.motivo, confirmacion=row.confirmacion,
        confirmacion_reembolso=row.confirmacion_reembolso, version=row.version,
    )


def save(pago: Pago) -> None:
    values = {
        "id_campania": pago.id_campania, "id_cliente": pago.id_cliente, "valor": pago.monto.valor,
        "moneda": pago.monto.moneda, "estado": pago.estado.value, "motivo": pago.motivo,
        "confirmacion": pago.confirmacion, "confirmacion_reembolso": pago.confirmacion_reembolso,
    }
    try:
        with transaction.atomic():
            if pago.version == 0:
                PagoModel.objects.create(id=pago.id, version=1, **values)
            elif not PagoModel.objects.filter(id=pago.id, version=pago.version).update(version=pago.version + 1, **values):
                raise ConcurrencyConflict(f"pago {pago.id} changed since version {pago.version}")
    except IntegrityError as error:
        # Only a new charge inserts: its id and id_campania are both the campaign's, so either
        # constraint means a concurrent command charged this campaign first.
        raise CobroDuplicado(f"La campaña {pago.id_campania} ya tiene un cobro.", "id_campania") from error
    pago.version += 1


def cliente(id_cliente: uuid.UUID) -> ClienteConocido | None:
    row = ClienteLocal.objects.filter(id=id_cliente).first()
    if row is None:
        return None
    return ClienteConocido(id=row.id, estado=row.estado, token_predeterminado=row.token_predeterminado,
                           mascara=row.mascara)


# --- conversions → commissions ---------------------------------------------------------


def presupuestos_bloqueados(ids_campania: set[uuid.UUID]) -> dict[uuid.UUID, domain.Presupuesto]:
    """The campaigns' rows, locked until commit (in id order, so two batches never deadlock):
    conversions of one campaign are decided one batch at a time."""
    rows = CampaniaLocal.objects.select_for_update().filter(id__in=ids_campania).order_by("id")
    return {
        row.id: domain.Presupuesto(
            campania=CampaniaVigente(id=row.id, estado=row.estado, fecha_inicio=row.fecha_inicio, fecha_fin=row.fecha_fin,
                                     moneda=row.moneda, comisiones=row.comisiones, dias_retencion=row.dias_retencion,
                                     ventana_atribucion_dias=row.ventana_atribucion_dias),
            presupuesto=normalizar(Monto(row.presupuesto, row.moneda)),
            disponible=normalizar(Monto(row.presupuesto_disponible, row.moneda)),
            agotado_publicado=row.agotado_publicado,
        )
        for row in rows
    }


def guardar_presupuesto(presupuesto: domain.Presupuesto) -> None:
    CampaniaLocal.objects.filter(id=presupuesto.campania.id).update(
        presupuesto_disponible=presupuesto.disponible.valor, agotado_publicado=presupuesto.agotado_publicado
    )


def devolver_presupuesto(id_campania: uuid.UUID, comision: Decimal) -> None:
    CampaniaLocal.objects.filter(id=id_campania).update(presupuesto_disponible=F("presupuesto_disponible") + comision)


def inscritos(pares: set[tuple[uuid.UUID, uuid.UUID]]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Which (campaign, partner) pairs are enrolments, in one query."""
    if not pares:
        return set()
    rows = SocioCampaniaLocal.objects.filter(
        id_campania__in={campania for campania, _ in pares}, id_socio__in={socio for _, socio in pares}
    ).values_list("id_campania", "id_socio")
    return set(rows) & pares


def estados_clientes(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return dict(ClienteLocal.objects.filter(id__in=ids).values_list("id", "estado"))


def transacciones_existentes(ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return set(Transaccion.objects.filter(id__in=ids).values_list("id", flat=True))


def agregar_transacciones(comisiones: list[ComisionRegistrada]) -> None:
    """One INSERT for the whole batch. The campaigns are locked, so no concurrent batch inserts the
    same (campaign, id_externo); the unique constraint is the last word all the same."""
    bulk.insert(Transaccion, [
        {"id": event.aggregate_id, "id_campania": event.id_campania, "id_socio": event.id_socio,
         "id_externo": event.id_externo, "tipo": event.tipo,
         "monto_conversion": event.monto_conversion.valor if event.monto_conversion else None,
         "comision": event.comision.valor, "moneda": event.comision.moneda, "estado": EstadoTransaccion.PENDIENTE.value,
         "ocurrida_en": event.ocurrida_en, "pagable_desde": event.pagable_desde}
        for event in comisiones
    ])


def transaccion_bloqueada(id_campania: uuid.UUID, id_externo: str) -> domain.Transaccion | None:
    row = (Transaccion.objects.select_for_update().filter(id=domain.id_transaccion(id_campania, id_externo))
           .values("id", "id_campania", "id_socio", "id_externo", "comision", "moneda", "estado").first())
    if row is None:
        return None
    return domain.Transaccion(
        id=row["id"], id_campania=row["id_campania"], id_socio=row["id_socio"], id_externo=row["id_externo"],
        comision=normalizar(Monto(row["comision"], row["moneda"])), estado=row["estado"],
        revertida_tras_pago=Transaccion.objects.filter(id_transaccion_original=row["id"]).exists(),
    )


def marcar_revertida(id_transaccion: uuid.UUID, motivo: str) -> None:
    Transaccion.objects.filter(id=id_transaccion).update(estado=EstadoTransaccion.REVERTIDA.value,
                                                         motivo_reversion=motivo)


def agregar_ajuste(transaccion: domain.Transaccion, ajuste: Monto, motivo: str, ahora) -> None:
    """The negative adjustment of a paid commission: payable at once, netted in the next payout."""
    Transaccion.objects.create(
        id=domain.id_ajuste(transaccion.id), id_campania=transaccion.id_campania, id_socio=transaccion.id_socio,
        id_externo=transaccion.id_externo, tipo=domain.AJUSTE, comision=ajuste.valor, moneda=ajuste.moneda,
        estado=EstadoTransaccion.PAGABLE.value, ocurrida_en=ahora, pagable_desde=ahora,
        id_transaccion_original=transaccion.id, motivo_reversion=motivo,
    )


# --- clicks and impressions → commissions ------------------------------------------------


def interacciones_por_facturar(limite: int) -> list[domain.InteraccionPorFacturar]:
    """Up to `limite` billable rows not billed yet, oldest first (the partial index
    pagos_click_por_facturar), locked until commit; rows another run holds are skipped, so runs at
    once claim disjoint rows and never wait for each other."""
    rows = (Click.objects.select_for_update(skip_locked=True).filter(facturable=True, facturado_en__isnull=True)
            .order_by("ocurrido_en").values_list("id", "tipo", "id_campania", "id_socio", "ocurrido_en")[:limite])
    return [domain.InteraccionPorFacturar(*row) for row in rows]


def marcar_facturadas(decisiones: list[domain.Decision], ahora) -> None:
    """Each billed row with its commission (registered now, or earlier: DUPLICADA) or its refusal
    code, in one statement."""
    Click.objects.bulk_update([
        Click(id=uuid.UUID(decision.conversion.id_externo), facturado_en=ahora, id_transaccion=decision.id_transaccion,
              rechazo=decision.rechazo.codigo if decision.rechazo else None)
        for decision in decisiones
    ], ["facturado_en", "id_transaccion", "rechazo"])


# --- payout cycles --------------------------------------------------------------------


# The domain's rules of a cycle, as the values its queries compare with.
POR_PAGAR = [estado.value for estado in domain.ESTADOS_POR_PAGAR]
EN_CURSO = [estado.value for estado in domain.ESTADOS_EN_CURSO]


@dataclass(frozen=True)
class PorPagar:
    """One partner's net payable total in one currency, as the cycle's GROUP BY finds it, and the
    highest row number it covers."""

    id_socio: uuid.UUID
    moneda: str
    total: Decimal
    transacciones: int
    hasta_secuencia: int


def bloquear_para_ciclo() -> None:
    """The cycle reads commissions with no writer in flight: SHARE mode waits for the transactions
    writing them to commit and holds new ones until the cycle commits (under a second for a million
    rows and 10,000 payouts, docs/PERFORMANCE.md). So every row the cycle did not see is numbered above
    what it saw, and a refund waits to see the payouts that cover its commission. SQLite serialises
    writers already. Must come before the transaction's first query."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Transaccion._meta.db_table} IN SHARE MODE")


def esperar_ciclo_en_curso() -> None:
    """A refund takes the lock a commission's writer takes, first: a cycle calculating now commits
    before the refund reads whether a payout covers the commission."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Transaccion._meta.db_table} IN ROW EXCLUSIVE MODE")


def iniciar_ciclo(id_ciclo: uuid.UUID, fecha_corte, origen: str) -> bool:
    """True if this call created the cycle; False if that cut-off already has one (a concurrent
    cycle for the same cut-off waits here for the first to commit)."""
    en_curso = domain.EstadoCiclo.EN_CURSO.value
    CicloPago.objects.bulk_create([CicloPago(id=id_ciclo, fecha_corte=fecha_corte, estado=en_curso, origen=origen)],
                                  ignore_conflicts=True)
    return CicloPago.objects.filter(id=id_ciclo, estado=en_curso).exists()


def _por_pagar(limite) -> QuerySet:
    """What a cycle pays (domain.se_paga_en_ciclo) of the partners it pays (domain.se_paga_al_socio)."""
    return Transaccion.objects.filter(estado__in=POR_PAGAR, pagable_desde__lt=limite).exclude(
        id_socio__in=ClienteLocal.objects.filter(estado=domain.SOCIO_SIN_PAGOS.value).values("id"))


def por_pagar(limite) -> list[PorPagar]:
    """One GROUP BY over the payable commissions and adjustments: suspended partners left out."""
    rows = (_por_pagar(limite).order_by().values("id_socio", "moneda")
            .annotate(total=Sum("comision"), transacciones=Count("id"), hasta_secuencia=Max("secuencia"))
            .values_list("id_socio", "moneda", "total", "transacciones", "hasta_secuencia"))
    return [PorPagar(*row) for row in rows]


def payouts_en_curso() -> set[tuple[uuid.UUID, str]]:
    """(partner, currency) pairs with a payout not answered yet: their rows wait for its answer."""
    return set(Payout.objects.filter(estado__in=EN_CURSO).values_list("id_socio", "moneda"))


def crear_payouts(id_ciclo: uuid.UUID, fecha_corte, limite, grupos: list[PorPagar]) -> None:
    """One CALCULADO payout per group, in one statement."""
    try:
        bulk.insert(Payout, [
            {"id": domain.id_payout(id_ciclo, grupo.id_socio, grupo.moneda), "id_ciclo": id_ciclo,
             "fecha_corte": fecha_corte, "id_socio": grupo.id_socio, "moneda": grupo.moneda, "monto_total": grupo.total,
             "transacciones": grupo.transacciones, "estado": domain.EstadoPayout.CALCULADO.value,
             "pagable_antes_de": limite, "hasta_secuencia": grupo.hasta_secuencia}
            for grupo in grupos
        ])
    except IntegrityError as error:
        # pagos_un_payout_en_curso: a concurrent cycle committed a payout for one of these partners
        # after this one read payouts_en_curso. Rerun, this cycle leaves that partner out.
        raise ConcurrencyConflict(f"ciclo {fecha_corte}: un ciclo concurrente creó payouts") from error


def cerrar_calculo(id_ciclo: uuid.UUID, grupos: list[PorPagar], ahora) -> None:
    totales: dict[str, Decimal] = {}
    for grupo in grupos:
        totales[grupo.moneda] = totales.get(grupo.moneda, Decimal(0)) + grupo.total
    CicloPago.objects.filter(id=id_ciclo).update(
        estado=domain.EstadoCiclo.CALCULADO.value, payouts=len(grupos),
        transacciones=sum(grupo.transacciones for grupo in grupos),
        totales=[normalizar(Monto(valor, moneda)).as_dict() for moneda, valor in sorted(totales.items())],
        calculado_en=ahora,
    )


def payouts_por_procesar(id_ciclo: uuid.UUID) -> list[uuid.UUID]:
    return list(Payout.objects.filter(id_ciclo=id_ciclo, estado=domain.EstadoPayout.CALCULADO.value)
                .values_list("id", flat=True))


def payouts_sin_enviar(calculados_antes_de) -> list[uuid.UUID]:
    """CALCULADO since before that instant (calculated, or set back to CALCULADO by a retry)."""
    return list(Payout.objects.filter(estado=domain.EstadoPayout.CALCULADO.value,
                                      fecha_actualizacion__lt=calculados_antes_de)
                .values_list("id", flat=True))


def payout(id_payout: uuid.UUID) -> domain.Payout:
    """Locked until commit: its state decides what the gateway is asked."""
    row = Payout.objects.select_for_update().filter(id=id_payout).first()
    if row is None:
        raise NotFound(f"No existe el payout {id_payout}.", "id_payout")
    return domain.Payout(row.id, id_socio=row.id_socio, id_ciclo=row.id_ciclo, fecha_corte=row.fecha_corte,
                         monto_total=normalizar(Monto(row.monto_total, row.moneda)), transacciones=row.transacciones, estado=row.estado, intentos=row.intentos,
                         confirmacion=row.confirmacion, motivo_fallo=row.motivo_fallo, version=row.version)


def cubiertas(id_payout: uuid.UUID) -> QuerySet:
    """The rows a payout covers until it claims them: its partner's payable rows in its currency,
    within its cut-off and numbered up to the highest its cycle saw."""
    payout = Payout.objects.filter(id=id_payout)
    return Transaccion.objects.filter(
        id_socio=Subquery(payout.values("id_socio")), moneda=Subquery(payout.values("moneda")),
        estado__in=POR_PAGAR, pagable_desde__lt=Subquery(payout.values("pagable_antes_de")),
        secuencia__lte=Subquery(payout.values("hasta_secuencia")),
    )


def reclamar(payout: domain.Payout) -> tuple[int, Monto]:
    """A payout sent for the first time takes the rows it covers; what they add up to is returned.
    Refunds of covered rows are refused and no other payout of the partner is in flight, so this is
    what its cycle calculated."""
    reclamadas = cubiertas(payout.id).update(estado=domain.ESTADO_RECLAMADA.value, id_payout=payout.id)
    total = _del_payout(payout, domain.ESTADO_RECLAMADA).aggregate(total=Sum("comision"))["total"]
    return reclamadas, normalizar(Monto(total or Decimal(0), payout.monto_total.moneda))


def payout_que_cubre(id_transaccion: uuid.UUID) -> uuid.UUID | None:
    """The payout, not sent yet, that will pay this PENDIENTE or PAGABLE row. A row in no other
    state is covered by none: a PAGADA one is refunded by an adjustment whatever comes next."""
    fila = Transaccion.objects.filter(id=id_transaccion, estado__in=POR_PAGAR)
    return (Payout.objects.filter(
        id_socio=Subquery(fila.values("id_socio")), moneda=Subquery(fila.values("moneda")),
        estado=domain.EstadoPayout.CALCULADO.value, intentos=0,
        pagable_antes_de__gt=Subquery(fila.values("pagable_desde")),
        hasta_secuencia__gte=Subquery(fila.values("secuencia")),
    ).values_list("id", flat=True).first())


def guardar_payout(payout: domain.Payout) -> None:
    """Its transactions follow its state (domain.Payout.estados_de_sus_comisiones)."""
    try:
        with transaction.atomic():
            Payout.objects.filter(id=payout.id).update(
                estado=payout.estado.value, intentos=payout.intentos, confirmacion=payout.confirmacion,
                motivo_fallo=payout.motivo_fallo, version=payout.version + 1,
            )
    except IntegrityError as error:
        # pagos_un_payout_en_curso, on a retry: a later cycle has a payout in flight for this partner.
        en_curso = Payout.objects.filter(id_socio=payout.id_socio, moneda=payout.monto_total.moneda,
                                         estado__in=EN_CURSO).values_list("id", flat=True).first()
        raise DomainError(f"El socio tiene otro payout en curso ({en_curso}); reintente cuando termine.",
                          "id_payout") from error
    payout.version += 1
    IntentoPayout.objects.bulk_create([IntentoPayout(id_payout=payout.id, **asdict(intento))
                                       for intento in payout.intentos_nuevos])
    payout.intentos_nuevos = []
    transicion = payout.estados_de_sus_comisiones()
    if transicion is not None:
        _del_payout(payout, transicion.desde).update(estado=transicion.hacia.value)


def recuperar_transacciones(payout: domain.Payout) -> int:
    """A retried payout takes back those of its released rows no later cycle has claimed."""
    return _del_payout(payout, domain.AL_REINTENTARSE.desde).update(estado=domain.AL_REINTENTARSE.hacia.value)


def _del_payout(payout: domain.Payout, estado: EstadoTransaccion) -> QuerySet:
    # Through the partner's index: id_payout has none (see Transaccion).
    return Transaccion.objects.filter(id_socio=payout.id_socio, id_payout=payout.id, estado=estado.value)

