"""The campaign event store on PostgreSQL: optimistic concurrency with a real worker, snapshots,
upcasting of stored v1 events and rebuilding the read models by replay."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from alpespartners.messaging import command_log
from alpespartners.messaging.models import CommandLog
from alpespartners.seedwork.domain import ConcurrencyConflict, Monto
from campanias import commands, projections, repository
from campanias.domain import Campania
from campanias.models import CampaniaView, EventoCampania, SnapshotCampania, SocioCampaniaView
from tests import events
from tests.conftest import celery_worker, wait_until

pytestmark = pytest.mark.usefixtures("real_services")

HOY = date.today()


def conocer_cliente(tipo="EMPRESA") -> uuid.UUID:
    id_cliente = uuid.uuid4()
    events.deliver("campanias", "eventos.cliente", events.cliente_registrado(id_cliente, tipo=tipo))
    return id_cliente


def campania_aprobada(id_marca: uuid.UUID) -> Campania:
    """A campaign written straight through the store (the aggregate and the repository)."""
    campania = Campania.crear(
        uuid.uuid4(), id_cliente=id_marca, estado_marca="ACTIVO", nombre="Navidad", hoy=HOY,
        presupuesto=Monto(Decimal("5000.00"), "COP"), fecha_inicio=HOY, fecha_fin=HOY + timedelta(days=30),
    )
    campania.aprobar(uuid.uuid4())
    append(campania)
    return campania


def append(campania: Campania) -> None:
    """What a handler's Unit of Work does with the aggregate: append, then project, one transaction."""
    with transaction.atomic():
        repository.save(campania)
        for event in campania.pull_events():
            projections.project(event)


def appends_waiting() -> int:
    with connection.cursor() as cursor:  # autocommit: pg_stat_activity is read afresh each time
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND query LIKE 'INSERT INTO \"campanias_eventocampania\"%%'")
        return cursor.fetchone()[0]


def state(campania: Campania) -> dict:
    return campania.snapshot()  # every field of the aggregate, and its version


@pytest.mark.django_db(transaction=True)
def test_two_commands_at_once_one_conflicts_is_retried_and_both_take_effect(processes):
    # given an approved campaign and two known partners
    campania = campania_aprobada(conocer_cliente())
    socios = [conocer_cliente("NATURAL"), conocer_cliente("NATURAL")]
    worker = processes("worker", *celery_worker())
    # and appends held back: both commands load version 2, then wait on their insert
    database = connection.settings_dict
    with psycopg.connect(dbname=database["NAME"], user=database["USER"], password=database["PASSWORD"],
                         host=database["HOST"], port=database["PORT"]) as locker:
        locker.execute("LOCK TABLE campanias_eventocampania IN EXCLUSIVE MODE")
        entries = [command_log.submit("campanias", commands.InscribirSocio(id_campania=campania.id, id_socio=socio))[0]
                   for socio in socios]
        wait_until(lambda: appends_waiting() == 2, 60, "both commands to reach their append\n" + worker.log())
        # when the appends are let go at the same moment
        locker.rollback()
    # then one hits the version conflict, is retried, and both take effect
    wait_until(lambda: all(CommandLog.objects.get(id=entry.id).status == "COMPLETADO" for entry in entries), 60,
               "both commands to complete\n" + worker.log())
    assert sorted(CommandLog.objects.get(id=entry.id).attempts for entry in entries) == [1, 2]
    assert "ConcurrencyConflict" in worker.log()  # the retry, as the worker logged it
    stored = repository.get(campania.id)
    assert sorted(stored.socios) == sorted(socios)
    # created, approved, and each enrolment with its link
    assert stored.version == EventoCampania.objects.filter(aggregate_id=campania.id).count() == 6
    assert CampaniaView.objects.get(id=campania.id).version == 6


@pytest.mark.django_db
def test_a_stale_writer_gets_a_concurrency_conflict_and_writes_nothing():
    campania = campania_aprobada(conocer_cliente())
    first, second = repository.get(campania.id), repository.get(campania.id)
    first.pausar("uno")
    append(first)
    second.finalizar("dos")
    with pytest.raises(ConcurrencyConflict):
        append(second)
    assert [row.type for row in EventoCampania.objects.filter(aggregate_id=campania.id)] == [
        "CampaniaCreada", "CampaniaAprobada", "CampaniaPausada"]


@pytest.mark.django_db
def test_loading_from_a_snapshot_gives_exactly_the_state_of_a_full_replay(settings):
    settings.CAMPANIAS_SNAPSHOT_EVERY = 10
    campania = campania_aprobada(conocer_cliente())
    # 2 + 27 × 2 + 3 enrolments × 2 (SocioInscrito, EnlaceCreado) = 62 events; a snapshot each time
    # a save crosses 10, 20 … 60
    for round in range(27):
        campania.pausar(f"pausa {round}")
        campania.reanudar(f"sigue {round}")
        if round % 9 == 0:
            campania.inscribir_socio(conocer_cliente("NATURAL"), "ACTIVO")
        append(campania)
    snapshot = SnapshotCampania.objects.get(aggregate_id=campania.id)
    assert 50 <= snapshot.version < 62  # so loading takes the snapshot and the events after it
    from_snapshot, full_replay = repository.get(campania.id), repository.get(campania.id, use_snapshot=False)
    assert from_snapshot.version == full_replay.version == EventoCampania.objects.count() == 62
    assert state(from_snapshot) == state(full_replay) == state(campania)
    # a snapshot of an older aggregate shape is ignored, not trusted
    SnapshotCampania.objects.filter(aggregate_id=campania.id).update(schema_version=0, state={"old": True})
    assert state(repository.get(campania.id)) == state(full_replay)


@pytest.mark.django_db
def test_an_event_stored_as_v1_loads_through_its_upcaster():
    id_campania, id_marca = uuid.uuid4(), conocer_cliente()
    EventoCampania.objects.create(
        aggregate_id=id_campania, version=1, event_id=uuid.uuid4(), type="CampaniaCreada", schema_version=1,
        occurred_at="2026-01-05T10:00:00Z",
        data={"id_cliente": str(id_marca), "nombre": "Antigua", "presupuesto": "750.50", "moneda": "USD",
              "fecha_inicio": "2026-01-05", "fecha_fin": "2027-01-05",
              "comisiones": {"VENTA": {"tipo": "PORCENTAJE", "valor": "5"}}},
    )
    campania = repository.get(id_campania)
    assert campania.presupuesto == Monto(Decimal("750.50"), "USD")
    assert campania.dias_retencion == 30 and campania.nombre == "Antigua" and campania.version == 1
    call_command("rebuild_projections", "campanias")
    view = CampaniaView.objects.get(id=id_campania)
    assert (view.presupuesto, view.moneda, view.dias_retencion) == (Decimal("750.50"), "USD", 30)


@pytest.mark.django_db
def test_rebuild_projections_reproduces_the_read_models_exactly(capsys):
    # given campaigns in several states, with partners, one of them suspended in cliente
    id_marca = conocer_cliente()
    socios = [conocer_cliente("NATURAL") for _ in range(3)]
    approved = campania_aprobada(id_marca)
    for socio in socios:
        approved.inscribir_socio(socio, "ACTIVO")
    approved.retirar_socio(socios[0])
    approved.pausar("revisión")
    append(approved)
    finished = campania_aprobada(id_marca)
    finished.inscribir_socio(socios[1], "ACTIVO")
    finished.finalizar("fin")
    append(finished)
    cancelled = Campania.crear(uuid.uuid4(), id_cliente=id_marca, estado_marca="ACTIVO", nombre="Fallida", hoy=HOY,
                               presupuesto=Monto(Decimal("10"), "USD"), fecha_inicio=HOY, fecha_fin=HOY + timedelta(days=1),
                               dias_retencion=0, comisiones={"CLICK": {"tipo": "FIJA", "valor": "0.25"}})
    cancelled.cancelar("Cobro rechazado")
    append(cancelled)
    events.deliver("campanias", "eventos.cliente", events.cliente_suspendido(socios[2]))
    before = read_models()
    # when the read models are rebuilt from the store
    call_command("rebuild_projections", "campanias")
    # then they are exactly the same rows
    assert read_models() == before
    assert "campanias: 17 events replayed" in capsys.readouterr().out  # 13, and an EnlaceCreado per enrolment
    assert SocioCampaniaView.objects.get(id_socio=socios[2]).suspendido is True


def read_models() -> dict:
    return {
        "campanias": sorted(CampaniaView.objects.values(), key=lambda row: str(row["id"])),
        "socios": sorted(
            (row for row in SocioCampaniaView.objects.values("campania_id", "id_socio", "inscrito_en", "suspendido")),
            key=lambda row: (str(row["campania_id"]), str(row["id_socio"])),
        ),
    }


@pytest.mark.django_db
def test_rebuild_projections_explains_a_context_without_an_event_store():
    with pytest.raises(CommandError, match="cliente does not keep an event store"):
        call_command("rebuild_projections", "cliente")
