"""The read side: CobroView, and Transaccion (commissions are their own read model)."""

from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.functions import Now

from .domain import EstadoTransaccion
from .models import CobroView, Transaccion


def cobros(*, id_campania=None, id_cliente=None, estado: str | None = None) -> QuerySet[CobroView]:
    queryset = CobroView.objects.all()
    if id_campania:
        queryset = queryset.filter(id_campania=id_campania)
    if id_cliente:
        queryset = queryset.filter(id_cliente=id_cliente)
    if estado:
        queryset = queryset.filter(estado=estado)
    return queryset


def cobro(id_pago) -> CobroView | None:
    return CobroView.objects.filter(id=id_pago).first()


# A PENDIENTE commission whose retention has passed is PAGABLE, whether or not a cycle has
# written it yet: the state is read against the clock.
_PAGABLE_YA = Q(estado=EstadoTransaccion.PENDIENTE.value, pagable_desde__lte=Now())


def transacciones(*, id_socio=None, id_campania=None, estado: str | None = None) -> QuerySet[Transaccion]:
    queryset = Transaccion.objects.annotate(
        estado_actual=Case(When(_PAGABLE_YA, then=Value(EstadoTransaccion.PAGABLE.value)), default="estado")
    )
    if id_socio:
        queryset = queryset.filter(id_socio=id_socio)
    if id_campania:
        queryset = queryset.filter(id_campania=id_campania)
    if estado:
        queryset = queryset.filter(estado_actual=estado)
    return queryset


def transaccion(id_transaccion) -> Transaccion | None:
    return transacciones().filter(id=id_transaccion).first()
