"""What the API and the back office read of webhooks."""

from django.db.models import Count, Prefetch, Q
from django.urls import reverse

from .models import Endpoint, Entrega, EstadoEntrega, Intento


def endpoints():
    return Endpoint.objects.annotate(pendientes=Count("entregas", filter=Q(entregas__estado=EstadoEntrega.PENDIENTE)))


def entregas(endpoint, *, estado: str | None = None, tipo: str | None = None, desde=None):
    filas = Entrega.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("intentos_registrados", queryset=Intento.objects.order_by("numero")))
    if estado:
        filas = filas.filter(estado=estado)
    if tipo:
        filas = filas.filter(tipo=tipo)
    if desde:
        filas = filas.filter(fecha_creacion__gte=desde)
    return filas.order_by("-fecha_creacion", "-id")


def tablero() -> dict:
    """The back office home's flag: the endpoints the dispatcher disabled, with why."""
    deshabilitados = Endpoint.objects.filter(activo=False, deshabilitado_en__isnull=False).order_by("-deshabilitado_en")
    return {
        "webhooks_deshabilitados": list(deshabilitados.values("id", "id_cliente", "url", "deshabilitado_en",
                                                              "motivo_deshabilitado")[:20]),
        "webhooks_deshabilitados_total": deshabilitados.count(),
        "webhooks_deshabilitados_url": reverse("admin:webhooks_endpoint_changelist") + "?deshabilitado=si",
        "webhooks_pendientes": Entrega.objects.filter(estado=EstadoEntrega.PENDIENTE).count(),
    }
