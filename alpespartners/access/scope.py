"""Who may see and command what: staff everything, a marca or socio user only its own client's objects.

Views call `scope_of(request)` and then `require(...)` for what a role may not do at all
(403, the same answer for every id) and `restrict(...)` for which rows it may see: another
party's object is then simply not found (404), so ids don't leak.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, PermissionDenied

from .models import Rol, UsuarioCliente

# How a role reaches its rows: a lookup compared with the user's client id, or a function
# (queryset, id_cliente) -> queryset; None means the role sees none of them.
Rule = str | Callable[[QuerySet, uuid.UUID], QuerySet] | None


@dataclass(frozen=True)
class Scope:
    staff: bool
    rol: str | None = None
    id_cliente: uuid.UUID | None = None

    def require(self, *roles: str) -> None:
        """Staff always pass; anyone else must hold one of `roles`."""
        if self.staff:
            return
        if self.rol is None:
            raise PermissionDenied("Su usuario no está vinculado a ningún cliente; pida acceso al equipo de operaciones.")
        if self.rol not in roles:
            raise PermissionDenied(f"Un usuario con rol {self.rol} no puede hacer esta operación.")

    def restrict(self, queryset: QuerySet, *, marca: Rule = None, socio: Rule = None) -> QuerySet:
        if self.staff:
            return queryset
        self.require(Rol.MARCA, Rol.SOCIO)  # an unlinked user is told why it sees nothing
        rule = {Rol.MARCA: marca, Rol.SOCIO: socio}.get(self.rol)
        if rule is None:
            return queryset.none()
        if callable(rule):
            return rule(queryset, self.id_cliente)
        return queryset.filter(**{rule: self.id_cliente})

    def own_client(self, id_cliente: uuid.UUID) -> uuid.UUID:
        """The client a marca names in a request body must be its own (404 otherwise, as for any id)."""
        if not self.staff and id_cliente != self.id_cliente:
            raise NotFound(f"No existe el cliente {id_cliente}.")
        return id_cliente


def scope_of(request) -> Scope:
    """The scope of the request's user, read once per request."""
    if not hasattr(request, "access_scope"):
        request.access_scope = _scope_of_user(request.user)
    return request.access_scope


def _scope_of_user(user) -> Scope:
    if user.is_staff:
        return Scope(staff=True)
    try:
        link = user.cliente_vinculado  # read with the token (alpespartners.throttling.TokenAuthentication)
    except UsuarioCliente.DoesNotExist:
        return Scope(staff=False)
    return Scope(staff=False, rol=link.rol, id_cliente=link.id_cliente)
