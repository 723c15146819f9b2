"""The wiring of `webhooks`: every event type of the routing table (domain.RUTAS)."""

from functools import partial

from alpespartners.messaging.unit_of_work import UnitOfWork

from . import domain, handlers
from .projections import PROYECCIONES


def unit_of_work(**kwargs) -> UnitOfWork:
    # No topic: webhooks publishes nothing; its Unit of Work commits what the handler wrote.
    return UnitOfWork(topic=None, project=lambda event: None, **kwargs)


COMMAND_HANDLERS: dict = {}

# The types that feed the read model (a campaign's brand, its partners) one at a time, in the order
# they come, before the rest of their batch is routed.
CONSUMES = {
    topic: {tipo: partial(handlers.registrar_entrega, topic) for tipo in tipos if tipo in PROYECCIONES}
    for topic, tipos in domain.RUTAS.items() if set(tipos) & set(PROYECCIONES)
}

# Every other type set-based, as pagos takes conversions: a batch becomes its deliveries in a few statements.
BATCH_CONSUMES = {
    topic: {tipo: partial(handlers.registrar_entregas, topic) for tipo in tipos if tipo not in PROYECCIONES}
    for topic, tipos in domain.RUTAS.items()
}


def _inscripcion(envelope: dict) -> str:
    return f"inscripcion:{envelope['aggregate_id']}:{envelope['data']['id_socio']}"


# A redelivered SocioInscrito must not undo the SocioRetirado applied after it (messaging/inbox.py).
ORDERED = {"eventos.campanias": {"SocioInscrito": _inscripcion, "SocioRetirado": _inscripcion}}
