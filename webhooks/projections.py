"""The read model webhooks route by: which brand owns each campaign, which partners are enrolled."""

import uuid

from .models import CampaniaLocal, InscripcionLocal


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
    "CampaniaCreada": campania_creada,
    "PagoConfirmado": cobro,
    "PagoRechazado": cobro,
    "PagoRevertido": cobro,
    "SocioInscrito": socio_inscrito,
    "SocioRetirado": socio_retirado,
}
