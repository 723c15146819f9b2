"""The wiring of `webhooks`: every event type of the routing table (domain.RUTAS)."""

from functools import partial

from alpespartners.messaging.unit_of_work import UnitOfWork

from . import domain, handlers, projections


def unit_of_work(**kwargs) -> UnitOfWork:
    # No topic: webhooks publishes nothing; its Unit of Work commits what the handler wrote.
    return UnitOfWork(topic=None, project=lambda event: None, **kwargs)


COMMAND_HANDLERS: dict = {}

# The types that feed the read model (a campaign's brand, its partners) one at a time, in the order
# they come, before the rest of their batch is routed.
CONSUMES = {
    topic: {tipo: partial(handlers.registrar_entrega, topic) for tipo in tipos if tipo in projections.PROYECCIONES}
    for topic, tipos in domain.RUTAS.items() if set(tipos) & set(projections.PROYECCIONES)
}

# Every other type set-based, as pagos takes conversions: a batch becomes its deliveries in a few statements.
BATCH_CONSUMES = {
    topic: {tipo: partial(handlers.registrar_entregas, topic) for tipo in tipos if tipo not in projections.PROYECCIONES}
    for topic, tipos in domain.RUTAS.items()
}


def _inscripcion(envelope: dict) -> str:
    return f"inscripcion:{envelope['aggregate_id']}:{envelope['data']['id_socio']}"


# A redelivered SocioInscrito must not undo the SocioRetirado applied after it (messaging/inbox.py),
# nor an older rename a newer one.
ORDERED = {
    "eventos.campanias": {"SocioInscrito": _inscripcion, "SocioRetirado": _inscripcion},
    "eventos.cliente": {"ClienteActualizado": lambda envelope: f"cliente:{envelope['aggregate_id']}:nombre"},
}

# Names of clients registered before the copy existed (manage.py fill_local_copies).
fill_local_copies = projections.rellenar
