"""The read model webhooks route by: which brand owns each campaign, which partners are enrolled;
and the clients' names its admin shows."""

import uuid
from collections.abc import Callable, Iterable

from .models import CampaniaLocal, ClienteLocal, InscripcionLocal


def cliente_registrado(envelope: dict) -> None:
    # A rename that arrived first stays: the registration's name only fills a row without one.
    cliente, creado = ClienteLocal.objects.get_or_create(id=uuid.UUID(str(envelope["aggregate_id"])),
                                                         defaults={"nombre": envelope["data"]["nombre"]})
    if not creado and not cliente.nombre:
        ClienteLocal.objects.filter(id=cliente.id, nombre="").update(nombre=envelope["data"]["nombre"])


def cliente_actualizado(envelope: dict) -> None:
    ClienteLocal.objects.update_or_create(id=uuid.UUID(str(envelope["aggregate_id"])),
                                          defaults={"nombre": envelope["data"]["nombre"]})


def campania_creada(envelope: dict) -> None:
    _marca(envelope["aggregate_id"], envelope["data"]["id_cliente"])


def cobro(envelope: dict) -> None:
    """A charge names its campaign and brand too, on pagos' topic: the brand of a commission (same
    topic, later) is known even if campanias' topic is behind."""
    _marca(envelope["data"]["id_campania"], envelope["data"]["id_cliente"])


def _marca(id_campania, id_marca) -> None:
    CampaniaLocal.objects.get_or_create(id=uuid.UUID(str(id_campania)), defaults={"id_marca": uuid.UUID(str(id_marca))})


def socio_inscrito(envelope: dict) -> None:
    InscripcionLocal.objects.get_or_create(id_campania=uuid.UUID(str(envelope["aggregate_id"])),
                                           id_socio=uuid.UUID(str(envelope["data"]["id_socio"])))


def socio_retirado(envelope: dict) -> None:
    InscripcionLocal.objects.filter(id_campania=uuid.UUID(str(envelope["aggregate_id"])),
                                    id_socio=uuid.UUID(str(envelope["data"]["id_socio"]))).delete()


# {type: projection(envelope)}: applied before the event is routed, in the order the events come.
PROYECCIONES = {
    "ClienteRegistrado": cliente_registrado,
    "ClienteActualizado": cliente_actualizado,
    "CampaniaCreada": campania_creada,
    "PagoConfirmado": cobro,
    "PagoRechazado": cobro,
    "PagoRevertido": cobro,
    "SocioInscrito": socio_inscrito,
    "SocioRetirado": socio_retirado,
}


def rellenar(events_from_start: Callable[[str], Iterable[dict]]) -> dict[str, int]:
    """Names for the endpoints' clients registered before this copy existed (manage.py
    fill_local_copies): each client's last name in the events still kept, where it has none."""
    nombres = {envelope["aggregate_id"]: envelope["data"]["nombre"] for envelope in events_from_start("eventos.cliente")
               if envelope["type"] in ("ClienteRegistrado", "ClienteActualizado")
               and isinstance(envelope["data"].get("nombre"), str)}
    conocidos = set(ClienteLocal.objects.filter(id__in=nombres).values_list("id", flat=True))
    nuevos = [ClienteLocal(id=uuid.UUID(id_cliente), nombre=nombre) for id_cliente, nombre in nombres.items()
              if uuid.UUID(id_cliente) not in conocidos]
    # A row a consumer writes meanwhile wins: the conflict leaves it as it is.
    ClienteLocal.objects.bulk_create(nuevos, ignore_conflicts=True)
    return {"nombres de clientes": len(nuevos)}
