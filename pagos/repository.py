"""Loads and saves `Pago` aggregates, the local copies of clients and campaigns, and commissions;
database errors become domain errors here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, QuerySet, Sum

from alpespartners import bulk
from alpespartners.seedwork.domain import ConcurrencyConflict, Monto, NotFound

from . import domain
from .domain import CampaniaVigente, CobroDuplicado, ComisionRegistrada, EstadoTransaccion, ClienteConocido, Pago, normalizar
from .models import CampaniaLocal, CicloPago, ClienteLocal, PagoModel, Payout, SocioCampaniaLocal, Transaccion


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
    return ClienteConocido(id=row.id, estado=row.estado, token_predeterminado=row.token_predeterminado)


# --- conversions → commissions ---------------------------------------------------------


@dataclass
class Presupuesto:
    """A campaign's budget as locked by a batch of conversions."""

    campania: CampaniaVigente
    presupuesto: Monto
    disponible: Monto
    agotado_publicado: bool


def presupuestos_bloqueados(ids_campania: set[uuid.UUID]) -> dict[uuid.UUID, Presupuesto]:
    """The campaigns' rows, locked until commit (in id order, so two batches never deadlock):
    conversions of one campaign are decided one batch at a time."""
    rows = CampaniaLocal.objects.select_for_update().filter(id__in=ids_campania).order_by("id")
    return {
        row.id: Presupuesto(
            campania=CampaniaVigente(id=row.id, estado=row.estado, fecha_inicio=row.fecha_inicio, fecha_fin=row.fecha_fin,
                                     moneda=row.moneda, comisiones=row.comisiones, dias_retencion=row.dias_retencion),
            presupuesto=normalizar(Monto(row.presupuesto, row.moneda)),
            disponible=normalizar(Monto(row.presupuesto_disponible, row.moneda)),
            agotado_publicado=row.agotado_publicado,
        )
        for row in rows
    }


def guardar_presupuesto(id_campania: uuid.UUID, presupuesto: Presupuesto) -> None:
    CampaniaLocal.objects.filter(id=id_campania).update(
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
        Transaccion(
            id=event.aggregate_id, id_campania=event.id_campania, id_socio=event.id_socio, id_externo=event.id_externo,
            tipo=event.tipo, monto_conversion=event.monto_conversion.valor if event.monto_conversion else None,
            comision=event.comision.valor, moneda=event.comision.moneda, estado=EstadoTransaccion.PENDIENTE.value,
            ocurrida_en=event.ocurrida_en, pagable_desde=event.pagable_desde,
        )
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


# --- payout cycles --------------------------------------------------------------------


@dataclass(frozen=True)
class PorPagar:
    """One partner's net payable total in one currency, as the cycle's GROUP BY finds it."""

    id_socio: uuid.UUID
    moneda: str
    total: Decimal
    transacciones: int


def aislar_ciclo() -> None:
    """The cycle reads what is payable and claims it in one snapshot (REPEATABLE READ on
    PostgreSQL; SQLite serialises writers anyway). A concurrent cycle or refund touching the same
    rows makes one of them fail with a serialization error, which is transient: it is retried and
    then sees the other's commit. Must be the transaction's first statement."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def iniciar_ciclo(id_ciclo: uuid.UUID, fecha_corte, origen: str) -> bool:
    """True if this call created the cycle; False if that cut-off already has one."""
    CicloPago.objects.bulk_create([CicloPago(id=id_ciclo, fecha_corte=fecha_corte, estado="EN_CURSO", origen=origen)],
                                  ignore_conflicts=True)
    # Under REPEATABLE READ a cycle committed by another transaction after this one's snapshot is
    # not visible (PostgreSQL then raises a serialization error, retried, at the insert).
    return CicloPago.objects.filter(id=id_ciclo, estado="EN_CURSO").exists()


def _por_pagar(limite) -> QuerySet:
    return Transaccion.objects.filter(
        estado__in=[EstadoTransaccion.PENDIENTE.value, EstadoTransaccion.PAGABLE.value], pagable_desde__lt=limite,
    ).exclude(id_socio__in=ClienteLocal.objects.filter(estado=domain.EstadoCliente.SUSPENDIDO.value).values("id"))


def por_pagar(limite) -> list[PorPagar]:
    """One GROUP BY over the payable commissions and adjustments: suspended partners left out."""
    rows = (_por_pagar(limite).order_by().values("id_socio", "moneda")
            .annotate(total=Sum("comision"), transacciones=Count("id")).values_list("id_socio", "moneda", "total",
                                                                                     "transacciones"))
    return [PorPagar(id_socio, moneda, total, transacciones) for id_socio, moneda, total, transacciones in rows]


def crear_payouts(id_ciclo: uuid.UUID, fecha_corte, grupos: list[PorPagar]) -> list[Payout]:
    payouts = [
        Payout(id=domain.id_payout(id_ciclo, grupo.id_socio, grupo.moneda), id_ciclo=id_ciclo, fecha_corte=fecha_corte,
               id_socio=grupo.id_socio, moneda=grupo.moneda, monto_total=grupo.total,
               transacciones=grupo.transacciones, estado=domain.EstadoPayout.CALCULADO.value)
        for grupo in grupos
    ]
    return Payout.objects.bulk_create(payouts, batch_size=2_000)


def reclamar_transacciones(id_ciclo: uuid.UUID, limite) -> int:
    """One UPDATE joined to the cycle's payouts: every payable row of a partner and currency that got
    a payout now belongs to it (suspended partners and totals under the minimum got none)."""
    transacciones, payouts = Transaccion._meta.db_table, Payout._meta.db_table
    field = Transaccion._meta.get_field
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {transacciones} SET estado = %s, id_payout = p.id FROM {payouts} p "
            f"WHERE p.id_ciclo = %s AND p.id_socio = {transacciones}.id_socio AND p.moneda = {transacciones}.moneda "
            f"AND {transacciones}.estado IN (%s, %s) AND {transacciones}.pagable_desde < %s",
            [EstadoTransaccion.EN_PAYOUT.value, field("id_payout").get_db_prep_value(id_ciclo, connection),
             EstadoTransaccion.PENDIENTE.value, EstadoTransaccion.PAGABLE.value,
             field("pagable_desde").get_db_prep_value(limite, connection)],
        )
        return cursor.rowcount


def cerrar_calculo(id_ciclo: uuid.UUID, payouts: list[Payout], ahora) -> None:
    totales: dict[str, Decimal] = {}
    for payout in payouts:
        totales[payout.moneda] = totales.get(payout.moneda, Decimal(0)) + payout.monto_total
    CicloPago.objects.filter(id=id_ciclo).update(
        estado="CALCULADO", payouts=len(payouts), transacciones=sum(payout.transacciones for payout in payouts),
        totales=[normalizar(Monto(valor, moneda)).as_dict() for moneda, valor in sorted(totales.items())],
        calculado_en=ahora,
    )


def payouts_por_procesar(id_ciclo: uuid.UUID) -> list[uuid.UUID]:
    return list(Payout.objects.filter(id_ciclo=id_ciclo, estado=domain.EstadoPayout.CALCULADO.value)
                .values_list("id", flat=True))


def payout(id_payout: uuid.UUID) -> domain.Payout:
    """Locked until commit: its state decides what the gateway is asked."""
    row = Payout.objects.select_for_update().filter(id=id_payout).first()
    if row is None:
        raise NotFound(f"No existe el payout {id_payout}.", "id_payout")
    return domain.Payout(row.id, id_socio=row.id_socio, monto_total=normalizar(Monto(row.monto_total, row.moneda)),
                         estado=row.estado, intentos=row.intentos, confirmacion=row.confirmacion,
                         motivo_fallo=row.motivo_fallo, version=row.version)


def transacciones_del_payout(id_payout: uuid.UUID) -> int:
    return Payout.objects.filter(id=id_payout).values_list("transacciones", flat=True).get()


def guardar_payout(payout: domain.Payout) -> None:
    """Its transactions follow its state: PAGADA when paid, back to PAGABLE (released) when it failed."""
    Payout.objects.filter(id=payout.id).update(
        estado=payout.estado.value, intentos=payout.intentos, confirmacion=payout.confirmacion,
        motivo_fallo=payout.motivo_fallo, version=payout.version + 1,
    )
    payout.version += 1
    if payout.estado is domain.EstadoPayout.EXITOSO:
        _del_payout(payout, EstadoTransaccion.EN_PAYOUT).update(estado=EstadoTransaccion.PAGADA.value)
    elif payout.estado is domain.EstadoPayout.FALLIDO:
        # The rows keep id_payout (the payout they were last in), which lets a retry take them back.
        _del_payout(payout, EstadoTransaccion.EN_PAYOUT).update(estado=EstadoTransaccion.PAGABLE.value)


def recuperar_transacciones(payout: domain.Payout) -> int:
    """A retried payout takes back those of its released rows no later cycle has claimed."""
    return _del_payout(payout, EstadoTransaccion.PAGABLE).update(estado=EstadoTransaccion.EN_PAYOUT.value)


def _del_payout(payout: domain.Payout, estado: EstadoTransaccion) -> QuerySet:
    # Through the partner's index: id_payout has none (see Transaccion).
    return Transaccion.objects.filter(id_socio=payout.id_socio, id_payout=payout.id, estado=estado.value)
