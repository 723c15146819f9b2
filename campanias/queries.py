"""The read side: CampaniaView, its enrolled partners, the stored history and the sagas."""

from datetime import date

from django.db.models import QuerySet

from .domain import ESTADOS_TERMINALES, EstadoCampania, EstadoSaga
from .models import CampaniaView, EventoCampania, SagaAprobacionModel, SocioCampaniaView


def campanias(*, estado: str | None = None, id_cliente=None) -> QuerySet[CampaniaView]:
    queryset = CampaniaView.objects.prefetch_related("socios")
    if estado:
        queryset = queryset.filter(estado=estado)
    if id_cliente:
        queryset = queryset.filter(id_cliente=id_cliente)
    return queryset


def con_socio(queryset: QuerySet[CampaniaView], id_socio) -> QuerySet[CampaniaView]:
    """The campaigns a partner is enrolled in."""
    return queryset.filter(socios__id_socio=id_socio)


def campania(id_campania) -> CampaniaView | None:
    return CampaniaView.objects.prefetch_related("socios").filter(id=id_campania).first()


def eventos(id_campania) -> QuerySet[EventoCampania]:
    return EventoCampania.objects.filter(aggregate_id=id_campania).order_by("version")


def saga(id_campania) -> SagaAprobacionModel | None:
    return SagaAprobacionModel.objects.filter(id_campania=id_campania).first()


def por_finalizar(hoy: date) -> list:
    return list(CampaniaView.objects.filter(
        estado__in=[EstadoCampania.APROBADA, EstadoCampania.PAUSADA], fecha_fin__lt=hoy,
    ).values_list("id", flat=True))


def sagas_vencidas(ahora) -> list:
    """Campaigns whose charge got no answer before the saga's deadline."""
    return list(SagaAprobacionModel.objects.filter(estado=EstadoSaga.ESPERANDO_COBRO.value, vence_en__lte=ahora)
                .values_list("id_campania", flat=True))


def enlaces(id_campania) -> QuerySet[SocioCampaniaView]:
    """The campaign's live tracking links: one per enrolment that has one (retired with it)."""
    return SocioCampaniaView.objects.filter(campania_id=id_campania, codigo_enlace__isnull=False)


def campanias_con_enrolamientos_sin_enlace() -> list:
    """Running campaigns with an enrolment older than tracking links (the backfill's work list)."""
    return list(SocioCampaniaView.objects.filter(codigo_enlace__isnull=True)
                .exclude(campania__estado__in=[estado.value for estado in ESTADOS_TERMINALES])
                .values_list("campania_id", flat=True).distinct())
