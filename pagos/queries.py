"""The read side: CobroView only."""

from django.db.models import QuerySet

from .models import CobroView


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
