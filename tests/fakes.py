"""Second implementations, in memory, of the ports pagos' handlers are given (cosmicpython's
FakeUnitOfWork and FakeRepository): the Unit of Work of alpespartners/messaging/unit_of_work.py and
the repository of pagos/repository.py. Real implementations, not mocks: a handler run on them
decides with the same domain rules, and a test asserts on the state it leaves, with no database.

The repository keeps plain rows, shaped like pagos' models, and builds fresh domain objects on each
load, as the Django one does: what a handler changes on an object is kept only when it saves it."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from django.db import IntegrityError
from django.utils import timezone

from alpespartners.messaging import outbox
from alpespartners.messaging.command_log import CommandAlreadyExecuted
from alpespartners.seedwork.domain import Aggregate, ConcurrencyConflict, DomainError, DomainEvent, Monto, NotFound
from pagos import domain
from pagos.domain import CampaniaVigente, ClienteConocido, ComisionRegistrada, EstadoTransaccion, normalizar
from pagos.repository import PorPagar  # the port's own value type (a cycle's group): the same class both sides


class FakeUnitOfWork:
    """The Unit of Work, in memory. Each `with` is a transaction: leaving it after commit() keeps
    what was committed (the `committed_*` attributes, `resource_id`, `result`) for the test to read;
    leaving it without commit(), or with an exception, puts the repository back as it was on
    entering (the exception propagates), so a failure path can assert nothing was written."""

    def __init__(self, repository: InMemoryPagosRepository, *, command_id: uuid.UUID | None = None,
                 correlation_id: uuid.UUID | None = None, causation_id: uuid.UUID | None = None):
        self.repository = repository
        self.command_id = command_id
        self.correlation_id = correlation_id or uuid.uuid4()
        self.causation_id = causation_id or command_id
        # what the current transaction has gathered, as in messaging's UnitOfWork
        self.events: list[DomainEvent] = []
        self.origins: dict[uuid.UUID, Any] = {}
        self.commands: dict[str, list[dict]] = {}
        self.follow_ups: list[Any] = []
        self.committed = False
        # what every committed transaction left, in order: the test's view of the outbox and the command log
        self.committed_events: list[DomainEvent] = []
        self.committed_commands: dict[str, list[dict]] = {}
        self.committed_follow_ups: list[Any] = []
        self.resource_id: uuid.UUID | None = None
        self.result: dict | None = None
        self.commits = 0
        self._command_completed = False
        self._staged: dict | None = None
        self._snapshot: dict | None = None

    def __enter__(self) -> FakeUnitOfWork:
        self._snapshot = self.repository.snapshot()
        self.events, self.origins, self.commands, self.follow_ups, self.committed = [], {}, {}, [], False
        self._staged = None
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None and self.committed:
            self._publish(self._staged)
        else:
            self.repository.restore(self._snapshot)  # a rollback: nothing of this transaction stays
        self._snapshot = None
        return False  # an exception propagates

    def collect(self, aggregate: Aggregate) -> None:
        self.events.extend(aggregate.pull_events())

    def record(self, events: Iterable[DomainEvent]) -> None:
        self.events.extend(events)

    def send(self, topic: str, type: str, *, key: uuid.UUID, data: dict,
             command_id: uuid.UUID | None = None) -> uuid.UUID:
        command_id = command_id or uuid.uuid4()
        self.commands.setdefault(topic, []).append(outbox.envelope(
            event_id=command_id, type=type, version=1, occurred_at=timezone.now(), aggregate_id=key,
            correlation_id=self.correlation_id, causation_id=self.causation_id, data=data,
        ))
        return command_id

    def after_commit(self, message: Any) -> None:
        self.follow_ups.append(message)

    def commit(self, resource_id: uuid.UUID | None = None, result: dict | None = None) -> None:
        if self._snapshot is None:
            raise RuntimeError("commit() outside `with uow:`")
        # The command log completes a command once: a second commit of it is refused, as there.
        if self._command_completed:
            raise CommandAlreadyExecuted(str(self.command_id))
        # What commit() writes is what was gathered so far; it is kept only if the `with` ends cleanly.
        self._staged = {"events": list(self.events), "commands": copy.deepcopy(self.commands),
                        "follow_ups": list(self.follow_ups), "resource_id": resource_id, "result": result}
        self.committed = True

    def _publish(self, staged: dict) -> None:
        self.committed_events.extend(staged["events"])
        for topic, envelopes in staged["commands"].items():
            self.committed_commands.setdefault(topic, []).extend(envelopes)
        self.committed_follow_ups.extend(staged["follow_ups"])
        self.resource_id, self.result = staged["resource_id"], staged["result"]
        self.commits += 1
        self._command_completed = self.command_id is not None


# --- pagos' rows, as its models keep them -------------------------------------------------------


@dataclass
class FilaCampania:
    """pagos' copy of a campaign (CampaniaLocal): its terms and what is left of its budget."""

    campania: CampaniaVigente
    presupuesto: Monto
    disponible: Monto
    agotado_publicado: bool = False


@dataclass
class FilaTransaccion:
    """A commission or a negative adjustment (Transaccion). `secuencia` numbers rows in insertion
    order, as the database's sequence does."""

    id: uuid.UUID
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    id_externo: str
    tipo: str
    comision: Decimal
    moneda: str
    estado: str
    ocurrida_en: datetime
    pagable_desde: datetime
    secuencia: int = 0
    monto_conversion: Decimal | None = None
    id_payout: uuid.UUID | None = None
    id_transaccion_original: uuid.UUID | None = None
    motivo_reversion: str = ""


@dataclass
class FilaClick:
    """A click or an impression (Click), with what billing marked on it."""

    id: uuid.UUID
    tipo: str
    id_campania: uuid.UUID
    id_socio: uuid.UUID
    ocurrido_en: datetime
    facturable: bool = True
    facturado_en: datetime | None = None
    id_transaccion: uuid.UUID | None = None
    rechazo: str | None = None


@dataclass
class FilaCiclo:
    id: uuid.UUID
    fecha_corte: date
    estado: str
    origen: str
    payouts: int = 0
    transacciones: int = 0
    totales: list[dict] = field(default_factory=list)
    calculado_en: datetime | None = None


@dataclass
class FilaPayout:
    id: uuid.UUID
    id_ciclo: uuid.UUID
    fecha_corte: date
    id_socio: uuid.UUID
    moneda: str
    monto_total: Decimal
    transacciones: int
    estado: str
    pagable_antes_de: datetime
    hasta_secuencia: int
    intentos: int = 0
    confirmacion: str = ""
    motivo_fallo: str = ""
    version: int = 1
    linea_de_tiempo: list[domain.IntentoPayout] = field(default_factory=list)


class InMemoryPagosRepository:
    """pagos/repository.py over dicts and sets: the functions pagos' handlers of conversions,
    refunds, cycles and payouts call, with the same signatures, return types and refusals. Locks
    are no-ops (one thread). Rows are replaced on a rollback: read them by id after a handler ran."""

    def __init__(self):
        self.campanias: dict[uuid.UUID, FilaCampania] = {}
        self.clientes: dict[uuid.UUID, ClienteConocido] = {}
        self.inscripciones: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.transacciones: dict[uuid.UUID, FilaTransaccion] = {}
        self.ciclos: dict[uuid.UUID, FilaCiclo] = {}
        self.payouts: dict[uuid.UUID, FilaPayout] = {}
        self.clicks: dict[uuid.UUID, FilaClick] = {}
        self.ultima_secuencia = 0

    # --- transactions of the fake Unit of Work --------------------------------------------------

    def snapshot(self) -> dict:
        return copy.deepcopy(vars(self))

    def restore(self, snapshot: dict) -> None:
        vars(self).clear()
        vars(self).update(snapshot)

    # --- test data: what eventos.cliente and eventos.campanias would have projected ------------

    def agregar_cliente(self, id_cliente: uuid.UUID, estado: str = domain.EstadoCliente.ACTIVO,
                        token_predeterminado: str = "", mascara: str = "") -> None:
        self.clientes[id_cliente] = ClienteConocido(id_cliente, str(estado), token_predeterminado, mascara)

    def agregar_campania(self, campania: CampaniaVigente, presupuesto: Monto, disponible: Monto | None = None) -> None:
        self.campanias[campania.id] = FilaCampania(campania, presupuesto, disponible or presupuesto)

    def inscribir(self, id_campania: uuid.UUID, id_socio: uuid.UUID) -> None:
        self.inscripciones.add((id_campania, id_socio))

    def agregar_transaccion(self, *, id_campania: uuid.UUID, id_socio: uuid.UUID, id_externo: str, comision: Monto,
                            estado: str, pagable_desde: datetime, tipo: str = "VENTA") -> uuid.UUID:
        """A commission in any state, as earlier work would have left it."""
        fila = FilaTransaccion(domain.id_transaccion(id_campania, id_externo), id_campania, id_socio, id_externo, tipo,
                               comision.valor, comision.moneda, str(estado), pagable_desde, pagable_desde)
        self._insertar(fila)
        return fila.id

    def agregar_interaccion(self, id_campania: uuid.UUID, id_socio: uuid.UUID, tipo: str = "CLICK", *,
                            facturable: bool = True, ocurrido_en: datetime | None = None) -> uuid.UUID:
        """A click or an impression as the web process would have written it."""
        fila = FilaClick(uuid.uuid4(), tipo, id_campania, id_socio, ocurrido_en or timezone.now(), facturable)
        self.clicks[fila.id] = fila
        return fila.id

    # --- clients --------------------------------------------------------------------------------

    def cliente(self, id_cliente: uuid.UUID) -> ClienteConocido | None:
        return self.clientes.get(id_cliente)

    def estados_clientes(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {id: self.clientes[id].estado for id in ids if id in self.clientes}

    # --- conversions → commissions ----------------------------------------------------------------

    def presupuestos_bloqueados(self, ids_campania: set[uuid.UUID]) -> dict[uuid.UUID, domain.Presupuesto]:
        return {
            id: domain.Presupuesto(campania=fila.campania, presupuesto=normalizar(fila.presupuesto),
                                   disponible=normalizar(fila.disponible), agotado_publicado=fila.agotado_publicado)
            for id, fila in sorted(self.campanias.items()) if id in ids_campania
        }

    def guardar_presupuesto(self, presupuesto: domain.Presupuesto) -> None:
        if presupuesto.disponible.valor < 0:  # the table's check constraint (pagos_presupuesto_no_negativo)
            raise IntegrityError("pagos_presupuesto_no_negativo")
        fila = self.campanias[presupuesto.campania.id]
        fila.disponible, fila.agotado_publicado = presupuesto.disponible, presupuesto.agotado_publicado

    def devolver_presupuesto(self, id_campania: uuid.UUID, comision: Decimal) -> None:
        fila = self.campanias[id_campania]
        fila.disponible = Monto(fila.disponible.valor + comision, fila.disponible.moneda)

    def inscritos(self, pares: set[tuple[uuid.UUID, uuid.UUID]]) -> set[tuple[uuid.UUID, uuid.UUID]]:
        return pares & self.inscripciones

    def transacciones_existentes(self, ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return ids & self.transacciones.keys()

    def agregar_transacciones(self, comisiones: list[ComisionRegistrada]) -> None:
        for event in comisiones:
            self._insertar(FilaTransaccion(
                event.aggregate_id, event.id_campania, event.id_socio, event.id_externo, event.tipo,
                event.comision.valor, event.comision.moneda, EstadoTransaccion.PENDIENTE.value, event.ocurrida_en,
                event.pagable_desde, monto_conversion=event.monto_conversion.valor if event.monto_conversion else None,
            ))

    # --- clicks and impressions → commissions --------------------------------------------------

    def interacciones_por_facturar(self, limite: int) -> list[domain.InteraccionPorFacturar]:
        filas = sorted((fila for fila in self.clicks.values() if fila.facturable and fila.facturado_en is None),
                       key=lambda fila: fila.ocurrido_en)[:limite]
        return [domain.InteraccionPorFacturar(fila.id, fila.tipo, fila.id_campania, fila.id_socio, fila.ocurrido_en)
                for fila in filas]

    def marcar_facturadas(self, decisiones: list[domain.Decision], ahora: datetime) -> None:
        for decision in decisiones:
            fila = self.clicks[uuid.UUID(decision.conversion.id_externo)]
            fila.facturado_en, fila.id_transaccion = ahora, decision.id_transaccion
            fila.rechazo = decision.rechazo.codigo if decision.rechazo else None

    def transaccion_bloqueada(self, id_campania: uuid.UUID, id_externo: str) -> domain.Transaccion | None:
        fila = self.transacciones.get(domain.id_transaccion(id_campania, id_externo))
        if fila is None:
            return None
        return domain.Transaccion(
            id=fila.id, id_campania=fila.id_campania, id_socio=fila.id_socio, id_externo=fila.id_externo,
            comision=normalizar(Monto(fila.comision, fila.moneda)), estado=fila.estado,
            revertida_tras_pago=any(otra.id_transaccion_original == fila.id for otra in self.transacciones.values()),
        )

    def marcar_revertida(self, id_transaccion: uuid.UUID, motivo: str) -> None:
        fila = self.transacciones[id_transaccion]
        fila.estado, fila.motivo_reversion = EstadoTransaccion.REVERTIDA.value, motivo

    def agregar_ajuste(self, transaccion: domain.Transaccion, ajuste: Monto, motivo: str, ahora) -> None:
        """Payable at once, netted in the next payout."""
        self._insertar(FilaTransaccion(
            domain.id_ajuste(transaccion.id), transaccion.id_campania, transaccion.id_socio, transaccion.id_externo,
            domain.AJUSTE, ajuste.valor, ajuste.moneda, EstadoTransaccion.PAGABLE.value, ahora, ahora,
            id_transaccion_original=transaccion.id, motivo_reversion=motivo,
        ))

    def _insertar(self, fila: FilaTransaccion) -> None:
        # Ids are computed from (campaign, id_externo), and an adjustment's from its commission: the
        # primary key stands for the table's two unique constraints.
        if fila.id in self.transacciones:
            raise IntegrityError(f"pagos_transaccion: {fila.id} ya existe")
        self.ultima_secuencia += 1
        fila.secuencia = self.ultima_secuencia
        self.transacciones[fila.id] = fila

    # --- payout cycles ----------------------------------------------------------------------------

    def bloquear_para_ciclo(self) -> None:
        """No concurrent writer in memory: nothing to wait for."""

    def esperar_ciclo_en_curso(self) -> None:
        """No concurrent cycle in memory: nothing to wait for."""

    def iniciar_ciclo(self, id_ciclo: uuid.UUID, fecha_corte, origen: str) -> bool:
        """True if this call created the cycle (a committed one is CALCULADO already)."""
        self.ciclos.setdefault(id_ciclo, FilaCiclo(id_ciclo, fecha_corte, domain.EstadoCiclo.EN_CURSO.value, origen))
        return self.ciclos[id_ciclo].estado == domain.EstadoCiclo.EN_CURSO

    def por_pagar(self, limite) -> list[PorPagar]:
        """What a cycle pays, one group per partner and currency, as the GROUP BY finds it."""
        grupos: dict[tuple[uuid.UUID, str], list[FilaTransaccion]] = {}
        for fila in self.transacciones.values():
            if self._se_paga(fila, limite):
                grupos.setdefault((fila.id_socio, fila.moneda), []).append(fila)
        return [PorPagar(id_socio, moneda, sum((fila.comision for fila in filas), Decimal(0)), len(filas),
                         max(fila.secuencia for fila in filas))
                for (id_socio, moneda), filas in grupos.items()]

    def _se_paga(self, fila: FilaTransaccion, limite) -> bool:
        estado_socio = self.clientes[fila.id_socio].estado if fila.id_socio in self.clientes else None
        return (domain.se_paga_en_ciclo(fila.estado, fila.pagable_desde, limite)
                and domain.se_paga_al_socio(estado_socio))

    def payouts_en_curso(self) -> set[tuple[uuid.UUID, str]]:
        return {(fila.id_socio, fila.moneda) for fila in self.payouts.values()
                if fila.estado in domain.ESTADOS_EN_CURSO}

    def crear_payouts(self, id_ciclo: uuid.UUID, fecha_corte, limite, grupos: list[PorPagar]) -> None:
        for grupo in grupos:
            id_payout = domain.id_payout(id_ciclo, grupo.id_socio, grupo.moneda)
            # The table's constraints: one payout per cycle, partner and currency, and one in flight
            # per partner and currency; the Django repository refuses either the same way.
            if id_payout in self.payouts or (grupo.id_socio, grupo.moneda) in self.payouts_en_curso():
                raise ConcurrencyConflict(f"ciclo {fecha_corte}: un ciclo concurrente creó payouts")
            self.payouts[id_payout] = FilaPayout(
                id_payout, id_ciclo, fecha_corte, grupo.id_socio, grupo.moneda, grupo.total, grupo.transacciones,
                domain.EstadoPayout.CALCULADO.value, pagable_antes_de=limite, hasta_secuencia=grupo.hasta_secuencia,
            )

    def cerrar_calculo(self, id_ciclo: uuid.UUID, grupos: list[PorPagar], ahora) -> None:
        totales: dict[str, Decimal] = {}
        for grupo in grupos:
            totales[grupo.moneda] = totales.get(grupo.moneda, Decimal(0)) + grupo.total
        ciclo = self.ciclos[id_ciclo]
        ciclo.estado, ciclo.payouts, ciclo.calculado_en = domain.EstadoCiclo.CALCULADO.value, len(grupos), ahora
        ciclo.transacciones = sum(grupo.transacciones for grupo in grupos)
        ciclo.totales = [normalizar(Monto(valor, moneda)).as_dict() for moneda, valor in sorted(totales.items())]

    # --- payouts ----------------------------------------------------------------------------------

    def payout(self, id_payout: uuid.UUID) -> domain.Payout:
        fila = self.payouts.get(id_payout)
        if fila is None:
            raise NotFound(f"No existe el payout {id_payout}.", "id_payout")
        return domain.Payout(fila.id, id_socio=fila.id_socio, id_ciclo=fila.id_ciclo, fecha_corte=fila.fecha_corte,
                             monto_total=normalizar(Monto(fila.monto_total, fila.moneda)),
                             transacciones=fila.transacciones, estado=fila.estado, intentos=fila.intentos,
                             confirmacion=fila.confirmacion, motivo_fallo=fila.motivo_fallo, version=fila.version)

    def reclamar(self, payout: domain.Payout) -> tuple[int, Monto]:
        """Its first sending takes the rows it covers; returns how many it holds and what they add up to."""
        reclamadas = self._cubiertas(self.payouts[payout.id])
        for fila in reclamadas:
            fila.estado, fila.id_payout = domain.ESTADO_RECLAMADA.value, payout.id
        total = sum((fila.comision for fila in self._del_payout(payout, domain.ESTADO_RECLAMADA)), Decimal(0))
        return len(reclamadas), normalizar(Monto(total, payout.monto_total.moneda))

    def _cubiertas(self, payout: FilaPayout) -> list[FilaTransaccion]:
        """Its partner's rows in its currency that its cycle would pay, up to the highest it saw."""
        return [fila for fila in self.transacciones.values()
                if (fila.id_socio, fila.moneda) == (payout.id_socio, payout.moneda)
                and domain.se_paga_en_ciclo(fila.estado, fila.pagable_desde, payout.pagable_antes_de)
                and fila.secuencia <= payout.hasta_secuencia]

    def payout_que_cubre(self, id_transaccion: uuid.UUID) -> uuid.UUID | None:
        """The payout calculated and never sent whose range covers the row, if the row is one a
        cycle pays (domain.ESTADOS_POR_PAGAR)."""
        fila = self.transacciones.get(id_transaccion)
        if fila is None or fila.estado not in domain.ESTADOS_POR_PAGAR:
            return None
        return next((payout.id for payout in self.payouts.values()
                     if (payout.id_socio, payout.moneda) == (fila.id_socio, fila.moneda)
                     and payout.estado == domain.EstadoPayout.CALCULADO and payout.intentos == 0
                     and payout.pagable_antes_de > fila.pagable_desde and payout.hasta_secuencia >= fila.secuencia),
                    None)

    def guardar_payout(self, payout: domain.Payout) -> None:
        """Its transactions follow its state (domain.Payout.estados_de_sus_comisiones)."""
        fila = self.payouts[payout.id]
        if payout.estado in domain.ESTADOS_EN_CURSO:  # pagos_un_payout_en_curso, on a retry
            en_curso = next((otro.id for otro in self.payouts.values()
                             if otro.id != payout.id and (otro.id_socio, otro.moneda) == (fila.id_socio, fila.moneda)
                             and otro.estado in domain.ESTADOS_EN_CURSO), None)
            if en_curso is not None:
                raise DomainError(f"El socio tiene otro payout en curso ({en_curso}); reintente cuando termine.",
                                  "id_payout")
        fila.estado, fila.intentos, fila.version = payout.estado.value, payout.intentos, payout.version + 1
        fila.confirmacion, fila.motivo_fallo = payout.confirmacion, payout.motivo_fallo
        fila.linea_de_tiempo += payout.intentos_nuevos
        payout.version += 1
        payout.intentos_nuevos = []
        transicion = payout.estados_de_sus_comisiones()
        if transicion is not None:
            for comision in self._del_payout(payout, transicion.desde):
                comision.estado = transicion.hacia.value

    def recuperar_transacciones(self, payout: domain.Payout) -> int:
        """A retried payout takes back those of its released rows no later cycle has claimed."""
        recuperadas = self._del_payout(payout, domain.AL_REINTENTARSE.desde)
        for fila in recuperadas:
            fila.estado = domain.AL_REINTENTARSE.hacia.value
        return len(recuperadas)

    def _del_payout(self, payout: domain.Payout, estado: EstadoTransaccion) -> list[FilaTransaccion]:
        return [fila for fila in self.transacciones.values()
                if fila.id_socio == payout.id_socio and fila.id_payout == payout.id and fila.estado == estado]


# --- the payment gateway: adapters of the PasarelaPagos port, chosen by settings.PASARELA_PAGOS ---


class PasarelaNoLlamada:
    """For a payout that must never reach the gateway (its partner has no payment method)."""

    def cobrar(self, clave_idempotencia, token, monto):
        raise AssertionError("the gateway was called to charge")

    def reembolsar(self, clave_idempotencia, confirmacion, monto):
        raise AssertionError("the gateway was called to refund")

    def pagar(self, clave_idempotencia, token, monto):
        raise AssertionError("the gateway was called for a partner without a payment method")


class PasarelaSinRespuesta(PasarelaNoLlamada):
    """A gateway that never answers a payout: it stays EN_PROCESO until a TerminarPayout."""

    def pagar(self, clave_idempotencia, token, monto):
        raise domain.ErrorTransitorioPasarela("sin respuesta")
