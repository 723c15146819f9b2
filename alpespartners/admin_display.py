"""Admin pieces shared by every context: read-only model admins, JSON fields and amounts shown
readably. (Actions that issue commands are messaging's: messaging/admin_actions.py.)"""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.formats import number_format

from alpespartners.seedwork.domain import to_minor_unit


def pretty_json(value):
    if value is None:
        return "-"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="white-space: pre-wrap; margin: 0;">{}</pre>', text)


def monto(valor, moneda) -> str:
    """A stored amount as staff read it, the same on every page: to the currency's minor unit, with the
    back office's separators (LANGUAGE_CODE es: "25.001,00 COP", "1.500 CLP")."""
    return f"{number_format(to_minor_unit(valor, moneda), force_grouping=True)} {moneda}"


def json_display(field: str, description: str):
    """A read-only admin field showing the JSON of `field`, pretty-printed and escaped."""

    @admin.display(description=description)
    def display(self, obj):
        return pretty_json(getattr(obj, field))

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
