"""What the API and the back office read of webhooks."""

from django.db.models import Count, Min, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import ClienteLocal, Endpoint, Entrega, EstadoEntrega, Intento


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


def con_nombre_de_cliente(endpoints_):
    """Endpoints with their client's name (`nombre_cliente`, None until webhooks' copy has it): one
    subquery, run for the rows fetched only."""
    return endpoints_.annotate(nombre_cliente=Subquery(
        ClienteLocal.objects.filter(id=OuterRef("id_cliente")).values("nombre")[:1]))


def tablero() -> dict:
    """The back office home's flag: the endpoints the dispatcher disabled, with why."""
    deshabilitados = Endpoint.objects.filter(activo=False, deshabilitado_en__isnull=False).order_by("-deshabilitado_en")
    return {
        "webhooks_deshabilitados": list(con_nombre_de_cliente(deshabilitados).values(
            "id", "id_cliente", "nombre_cliente", "url", "deshabilitado_en", "motivo_deshabilitado")[:20]),
        "webhooks_deshabilitados_total": deshabilitados.count(),
        "webhooks_deshabilitados_url": reverse("admin:webhooks_endpoint_changelist") + "?deshabilitado=si",
        "webhooks_pendientes": Entrega.objects.filter(estado=EstadoEntrega.PENDIENTE).count(),
    }


def metricas():
    """`/metrics`: what waits to be delivered, how late the oldest is, how many endpoints are disabled."""
    pendientes = Entrega.objects.filter(estado=EstadoEntrega.PENDIENTE).aggregate(
        total=Count("id"), mas_antigua=Min("fecha_creacion"))
    edad = (timezone.now() - pendientes["mas_antigua"]).total_seconds() if pendientes["mas_antigua"] else 0
    yield GaugeMetricFamily("alpespartners_webhook_deliveries_pending", "Webhook deliveries not yet delivered nor failed.",
                            value=pendientes["total"])
    yield GaugeMetricFamily("alpespartners_webhook_oldest_pending_age_seconds",
                            "Age of the oldest webhook delivery still pending.", value=edad)
    yield GaugeMetricFamily("alpespartners_webhook_endpoints_disabled", "Webhook endpoints disabled after failing.",
                            value=Endpoint.objects.filter(activo=False, deshabilitado_en__isnull=False).count())
