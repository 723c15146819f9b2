"""Admin actions that issue commands through the command log, and links to its entries: what the
contexts' admins share to act on their rows the way the API does."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from alpespartners.admin_display import ReadOnlyAdmin

from . import command_log


def commands_link(description: str):
    """A read-only admin field linking to the command log entries about this row."""

    @admin.display(description="comandos")
    def display(self, obj):
        url = reverse("admin:messaging_commandlog_changelist") + f"?resource_id={obj.id}"
        return format_html('<a href="{}">{}</a>', url, description)

    return display


class CommandActionsAdmin(ReadOnlyAdmin):
    """Admin actions that issue commands through the command log, exactly like the API, so the
    domain rules, events and read models stay in one path. The admin never writes rows."""

    command_context: str  # where the commands go: "campanias", "pagos"
    command_id_field: str  # the command's field that takes the selected row's id

    def has_emitir_comandos_permission(self, request):
        # The admin edits no rows, so the model's change permission is what grants issuing commands.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def issue(self, request, queryset, command_class) -> None:
        issued = 0
        for resource_id in queryset.values_list("id", flat=True):
            command = command_class(**{self.command_id_field: resource_id})
            command_log.submit(self.command_context, command, user=request.user, source="admin", resource_id=resource_id)
            issued += 1
        url = (reverse("admin:messaging_commandlog_changelist")
               + f"?source__exact=admin&type__exact={command_class.__name__}")
        emitidos = "Se emitió 1 comando" if issued == 1 else f"Se emitieron {issued} comandos"
        self.message_user(request, format_html(
            '{} {}; su resultado aparece en el <a href="{}">registro de comandos</a>.',
            emitidos, command_class.__name__, url,
        ))
