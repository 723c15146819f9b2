"""Back-office view of clients: the read model, plus actions that issue commands."""

from django.contrib import admin

from alpespartners.admin_display import json_display
from alpespartners.messaging.admin_actions import CommandActionsAdmin, commands_link

from .commands import ReactivarCliente, SuspenderCliente
from .models import ClienteView


@admin.register(ClienteView)
class ClienteViewAdmin(CommandActionsAdmin):
    command_context, command_id_field = "cliente", "id_cliente"
    list_display = ["nombre", "tipo", "numero_documento", "email", "estado", "fecha_registro"]
    list_filter = ["tipo", "estado"]
    search_fields = ["nombre", "email", "numero_documento"]
    date_hierarchy = "fecha_registro"
    actions = ["suspender", "reactivar"]
    fields = ["id", "tipo", "nombre", "email", "tipo_documento", "numero_documento", "estado", "fecha_registro",
              "medios_pago_json", "total_pagos_json", "ultimo_pago", "comandos"]
    readonly_fields = fields

    medios_pago_json = json_display("medios_pago", "medios de pago")
    total_pagos_json = json_display("total_pagos", "total pagos")
    comandos = commands_link("Ver los comandos de este cliente")

    @admin.action(description="Suspender los clientes seleccionados", permissions=["emitir_comandos"])
    def suspender(self, request, queryset):
        self.issue(request, queryset, SuspenderCliente)

    @admin.action(description="Reactivar los clientes seleccionados", permissions=["emitir_comandos"])
    def reactivar(self, request, queryset):
        self.issue(request, queryset, ReactivarCliente)
