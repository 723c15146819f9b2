"""The read side: ClienteView only."""

from django.db.models import Q, QuerySet

from .models import ClienteView


def clientes(*, tipo: str | None = None, estado: str | None = None, search: str | None = None) -> QuerySet[ClienteView]:
    queryset = ClienteView.objects.all()
    if tipo:
        queryset = queryset.filter(tipo=tipo)
    if estado:
        queryset = queryset.filter(estado=estado)
    if search:
        queryset = queryset.filter(Q(nombre__icontains=search) | Q(email__icontains=search) | Q(numero_documento__startswith=search))
    return queryset


def cliente(id_cliente) -> ClienteView | None:
    return ClienteView.objects.filter(id=id_cliente).first()
