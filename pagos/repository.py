"""Loads and saves `Pago` aggregates, the local copies of clients and campaigns, and commissions;
database errors become domain errors here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from alpespartners.seedwork.domain import ConcurrencyConflict, Monto, NotFound

from . import domain
from .domain import CampaniaVigente, CobroDuplicado, ComisionRegistrada, EstadoTransaccion, Marca, Pago, normalizar
from .models import CampaniaLocal, ClienteLocal, PagoModel, SocioCampaniaLocal, Transaccion


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


def marca(id_cliente: uuid.UUID) -> Marca | None:
    row = ClienteLocal.objects.filter(id=id_cliente).first()
    if row is None:
        return None
    return Marca(id=row.id, estado=row.estado, token_predeterminado=row.token_predeterminado)


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
    Transaccion.objects.bulk_create([
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
