"""Postbacks' storage side: brands' postback secrets (rotated, found by token or by client) and the
click a postback names. The rules are in domain/postbacks.py; the view is api/postbacks.py."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from . import domain
from .models import CampaniaLocal, ClienteLocal, Click, CredencialPostback


class ClienteDesconocido(Exception):
    pass


@dataclass(frozen=True)
class Rotacion:
    credencial: CredencialPostback
    secreto: str  # in clear, this once
    anterior_vale_hasta: datetime | None  # None: the client had no secret in force


def rotar(id_cliente: uuid.UUID, *, revocar_anterior: bool, ahora: datetime) -> Rotacion:
    """A new current secret for the client; the ones it replaces keep working until
    `domain.vence_anterior` (at once if `revocar_anterior`)."""
    if not ClienteLocal.objects.filter(id=id_cliente).exists():
        raise ClienteDesconocido(id_cliente)
    secreto = domain.nuevo_secreto()
    vence = domain.vence_anterior(ahora, revocar_anterior)
    with transaction.atomic():
        reemplazadas = _vigentes(ahora).filter(id_cliente=id_cliente).filter(
            Q(vence_en__isnull=True) | Q(vence_en__gt=vence)
        ).update(vence_en=vence)
        credencial = CredencialPostback.objects.create(
            id_cliente=id_cliente, secreto=secreto, huella=domain.huella(secreto), fecha_creacion=ahora
        )
    return Rotacion(credencial, secreto, vence if reemplazadas else None)


def _vigentes(ahora: datetime):
    return CredencialPostback.objects.filter(Q(vence_en__isnull=True) | Q(vence_en__gt=ahora))


def por_token(token: str, ahora: datetime) -> domain.Credencial | None:
    row = _vigentes(ahora).filter(huella=domain.huella(token)).only("id_cliente", "secreto").first()
    return domain.Credencial(row.id_cliente, row.secreto) if row else None


def del_cliente(id_cliente: uuid.UUID, ahora: datetime) -> list[domain.Credencial]:
    return [domain.Credencial(id_cliente, secreto)
            for secreto in _vigentes(ahora).filter(id_cliente=id_cliente).values_list("secreto", flat=True)]


def click_de_marca(id_click: uuid.UUID, id_marca: uuid.UUID) -> Click | None:
    """The click a postback names if it is on one of the brand's campaigns, in one query: a click,
    not an impression (nobody is sent anywhere with an impression's id), as the web process wrote it."""
    return (Click.objects.filter(id=id_click, tipo=domain.TipoInteraccion.CLICK.value,
                                 id_campania__in=CampaniaLocal.objects.filter(id_marca=id_marca).values("id"))
            .only("id", "id_campania", "id_socio", "ocurrido_en").first())


def existe_click(id_click: uuid.UUID) -> bool:
    """Only asked when the brand's own campaigns do not have it: unknown, or another brand's."""
    return Click.objects.filter(id=id_click, tipo=domain.TipoInteraccion.CLICK.value).exists()
