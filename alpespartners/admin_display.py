"""Admin pieces shared by every context: read-only model admins, JSON fields and amounts shown
readably: one format for money, one for instants, JSON as small tables. (Actions that issue
commands are messaging's: messaging/admin_actions.py.)"""

import re
from datetime import datetime

from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join

from alpespartners.seedwork.domain import to_minor_unit


def instante(valor: datetime | str | None) -> str:
    """An instant as every admin page shows it: in TIME_ZONE, with seconds and the zone's offset
    (alpespartners/formats). Takes the ISO 8601 strings JSON fields keep, too."""
    if isinstance(valor, str):
        valor = parse_datetime(valor)
    if valor is None:
        return "—"
    return formats.localize(timezone.localtime(valor) if timezone.is_aware(valor) else valor)


def tabla(valor):
    """A JSON value as a small table staff can read: an object as field/value rows, a list of objects
    as one row each under their fields, instants in the back office's zone; escaped throughout."""
    if isinstance(valor, dict):
        if not valor:
            return "—"
        filas = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>",
                                 ((clave, tabla(dato)) for clave, dato in valor.items()))
        return format_html('<table class="json">{}</table>', filas)
    if isinstance(valor, list):
        if not valor:
            return "—"
        if all(isinstance(item, dict) for item in valor):
            columnas = list(dict.fromkeys(clave for item in valor for clave in item))
            cabecera = format_html_join("", "<th>{}</th>", ((columna,) for columna in columnas))
            filas = format_html_join("", "<tr>{}</tr>", (
                (format_html_join("", "<td>{}</td>", ((tabla(item.get(columna)),) for columna in columnas)),)
                for item in valor))
            return format_html('<table class="json"><tr>{}</tr>{}</table>', cabecera, filas)
        return format_html_join(", ", "{}", ((tabla(item),) for item in valor))
    if valor is None:
        return "—"
    if isinstance(valor, bool):
        return "sí" if valor else "no"
    if isinstance(valor, str) and ES_INSTANTE.match(valor):
        return instante(valor)
    return str(valor)


# An ISO 8601 instant as our envelopes and JSON fields write them (a date alone stays as it is).
ES_INSTANTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def monto(valor, moneda) -> str:
    """A stored amount as staff read it, the same on every page: to the currency's minor unit, with the
    back office's separators (LANGUAGE_CODE es: "25.001,00 COP", "1.500 CLP")."""
    return f"{number_format(to_minor_unit(valor, moneda), force_grouping=True)} {moneda}"


# A client or a campaign by its name, linked to its page in the owning context's admin: a URL name,
# no import of that context and no join with its tables. Until the showing context's copy has the
# name, the id stands in.
def enlace_a_cliente(id_cliente, nombre: str | None) -> str:
    return _enlace_a("admin:cliente_clienteview_change", id_cliente, nombre)


def enlace_a_campania(id_campania, nombre: str | None) -> str:
    return _enlace_a("admin:campanias_campaniaview_change", id_campania, nombre)


def _enlace_a(pagina: str, id_, nombre: str | None) -> str:
    return format_html('<a href="{}">{}</a>', reverse(pagina, args=[id_]), nombre or id_)


def detalles_tecnicos(fields: list[str]) -> tuple:
    """The fieldset of a page's machinery (ids, versions, sequence numbers, fingerprints, leases):
    after the business fields, folded."""
    return ("Detalles técnicos", {"classes": ["collapse"], "fields": fields})


def json_display(field: str, description: str):
    """A read-only admin field showing the JSON of `field` as a small table."""

    @admin.display(description=description)
    def display(self, obj):
        return tabla(getattr(obj, field))

    return display


class ReadOnlyAdmin(admin.ModelAdmin):
    """For tables written only through commands, handlers, the relay and consumers."""

    show_full_result_count = False  # these tables grow large; skip the second COUNT(*)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
