"""Back-office view of clients: the read model, plus actions that issue commands.

The admin never writes models: suspending or reactivating goes through the command log,
exactly like the API, so the domain rules, events and read models stay in one path.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from alpespartners.admin_display import ReadOnlyAdmin, json_display
from alpespartners.messaging import command_log

from .commands import ReactivarCliente, SuspenderCliente
from .models import ClienteView

CONTEXT = "cliente"


@admin.register(ClienteView)
class ClienteViewAdmin(ReadOnlyAdmin):
    list_display = ["nombre", "tipo", "numero_documento", "email", "estado", "fecha_registro"]
    list_filter = ["tipo", "estado"]
    search_fields = ["nombre", "email", "numero_documento"]
    date_hierarchy = "fecha_registro"
    actions = ["suspender", "reactivar"]
    fields = ["id", "tipo", "nombre", "email", "tipo_documento", "numero_documento", "estado", "fecha_registro",
              "medios_pago_json", "total_pagos_json", "ultimo_pago", "comandos"]
    readonly_fields = fields

    def has_emitir_comandos_permission(self, request):
        # The admin edits no rows, so the model's change permission is what grants issuing commands.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    medios_pago_json = json_display("medios_pago", "medios de pago")
    total_pagos_json = json_display("total_pagos", "total pagos")

    @admin.display(description="comandos")
    def comandos(self, obj):
        url = reverse("admin:messaging_commandlog_changelist") + f"?resource_id={obj.id}"
        return format_html('<a href="{}">Ver los comandos de este cliente</a>', url)

    @admin.action(description="Suspender los clientes seleccionados", permissions=["emitir_comandos"])
    def suspender(self, request, queryset):
        self._issue(request, queryset, SuspenderCliente)

    @admin.action(description="Reactivar los clientes seleccionados", permissions=["emitir_comandos"])
    def reactivar(self, request, queryset):
        self._issue(request, queryset, ReactivarCliente)

    def _issue(self, request, queryset, command_class):
        issued = 0
        for id_cliente in queryset.values_list("id", flat=True):
            command_log.submit(CONTEXT, command_class(id_cliente=id_cliente), user=request.user, source="admin",
                               resource_id=id_cliente)
            issued += 1
        url = (reverse("admin:messaging_commandlog_changelist")
               + f"?source__exact=admin&type__exact={command_class.__name__}")
        emitidos = "Se emitió 1 comando" if issued == 1 else f"Se emitieron {issued} comandos"
        self.message_user(request, format_html(
            '{} {}; su resultado aparece en el <a href="{}">registro de comandos</a>.',
            emitidos, command_class.__name__, url,
        ))
