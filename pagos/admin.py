"""Back-office view of campaign charges: the read model only.

Charges are created by campanias' approval saga and reverted through the API (a reversal
needs a motivo); the admin is for looking, never for changing rows by hand."""

from django.contrib import admin

from alpespartners.admin_display import ReadOnlyAdmin, commands_link
from alpespartners.api import monto_json

from .models import CobroView


@admin.register(CobroView)
class CobroViewAdmin(ReadOnlyAdmin):
    list_display = ["id_campania", "id_cliente", "monto_display", "estado", "fecha_creacion", "fecha_actualizacion"]
    list_filter = ["estado", "moneda"]
    search_fields = ["id_campania", "id_cliente"]
    date_hierarchy = "fecha_creacion"
    fields = ["id", "id_campania", "id_cliente", "monto_display", "estado", "motivo", "confirmacion",
              "fecha_creacion", "fecha_actualizacion", "comandos"]
    readonly_fields = fields

    @admin.display(description="monto", ordering="valor")
    def monto_display(self, obj):
        monto = monto_json(obj.valor, obj.moneda)
        return f"{monto['valor']} {monto['moneda']}"

    comandos = commands_link("Ver los comandos de este cobro")
