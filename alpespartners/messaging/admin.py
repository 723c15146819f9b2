"""Read-only admin views of the command log, the outbox and the inbox.

These tables are written only by the command log, handlers, relay and consumers; the admin
is for looking, never for fixing rows by hand.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from alpespartners.admin_display import ReadOnlyAdmin, detalles_tecnicos, json_display, tabla

from . import command_log, dead_letters, queries
from .models import CommandLog, DeadLetter, InboxMessage, OutboxMessage


class RedriveAdmin(ReadOnlyAdmin):
    """Rows are never edited here; the model's change permission grants re-driving them."""

    def has_reenviar_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")


@admin.register(CommandLog)
class CommandLogAdmin(RedriveAdmin):
    list_display = ["created_at", "type", "context", "status", "source", "issued_by", "resource_id", "attempts",
                    "completed_at"]
    actions = ["redrive"]
    list_filter = ["status", "context", "type", "source", "created_at"]
    search_fields = ["id", "resource_id", "correlation_id", "type", "idempotency_key"]
    list_select_related = ["issued_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        # The correlation id stays in sight: it is how an operator finds the command's request in the logs.
        (None, {"fields": ["id", "context", "type", "status", "resource_id", "source", "issued_by", "correlation_id",
                           "redrive_of", "redriven_as", "attempts", "created_at", "completed_at", "payload_json",
                           "error_json", "result_json"]}),
        detalles_tecnicos(["idempotency_key", "request_fingerprint", "outbox_horizon", "swept_at"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    payload_json = json_display("payload", "payload")
    error_json = json_display("error", "error")
    result_json = json_display("result", "result")

    @admin.display(description="re-enviado como")
    def redriven_as(self, obj):
        links = [format_html('<a href="{}">{}</a>', reverse("admin:messaging_commandlog_change", args=[redrive.id]), redrive)
                 for redrive in obj.redrives.all()]
        return format_html("<br>".join(["{}"] * len(links)), *links) if links else "-"

    @admin.action(description="Re-enviar: repetir los FALLIDOS, re-encolar los PENDIENTES", permissions=["reenviar"])
    def redrive(self, request, queryset):
        done, skipped = [], 0
        for entry in queryset:
            redriven = command_log.redrive(entry, request.user)
            if redriven is None:
                skipped += 1
            else:
                done.append("re-encolado" if redriven.id == entry.id else f"repetido como {redriven.id}")
        if done:
            self.message_user(request, f"{len(done)} comando(s): " + "; ".join(done) + ".")
        if skipped:
            self.message_user(request, f"{skipped} comando(s) COMPLETADOS no se re-envían.", messages.WARNING)


class PublicadoFilter(admin.SimpleListFilter):
    title = "publicado"
    parameter_name = "publicado"

    def lookups(self, request, model_admin):
        return [("si", "Sí"), ("no", "No (pendiente)")]

    def queryset(self, request, queryset):
        if self.value() == "si":
            return queryset.filter(published_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(published_at__isnull=True)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    interno = True  # the relay's queue: operators read its backlog on the home
    change_list_template = "admin/messaging/outboxmessage/change_list.html"
    list_display = ["id", "type", "version", "topic", "aggregate_id", "publicado", "sequence_id", "created_at",
                    "published_at"]
    list_filter = [PublicadoFilter, "topic", "type", "created_at"]
    search_fields = ["event_id", "aggregate_id", "type"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    fieldsets = [
        (None, {"fields": ["id", "event_id", "topic", "type", "aggregate_id", "created_at", "published_at",
                           "envelope_json"]}),
        detalles_tecnicos(["version", "sequence_id"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    @admin.display(description="publicado", boolean=True, ordering="published_at")
    def publicado(self, obj):
        return obj.published_at is not None

    envelope_json = json_display("envelope", "envelope")

    def changelist_view(self, request, extra_context=None):
        if self.has_view_or_change_permission(request):
            pending = queries.outbox_pending()
            oldest = pending["oldest"]
            extra_context = {
                **(extra_context or {}),
                "outbox_pending_count": pending["count"],
                "outbox_oldest_pending": oldest,
                "outbox_oldest_pending_age": timesince(oldest) if oldest else None,
            }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    interno = True
    list_display = ["received_at", "consumer", "type", "topic", "event_id"]
    list_filter = ["consumer", "type", "topic", "received_at"]
    search_fields = ["event_id", "type", "consumer"]
    date_hierarchy = "received_at"
    fields = ["id", "consumer", "event_id", "topic", "type", "received_at"]
    readonly_fields = fields


@admin.register(DeadLetter)
class DeadLetterAdmin(RedriveAdmin):
    list_display = ["received_at", "consumer", "type", "topic", "event_id", "status", "resolved_by", "resolved_at"]
    list_filter = ["status", "consumer", "topic", "type", "received_at"]
    search_fields = ["event_id", "type", "origin_message_id", "payload"]
    list_select_related = ["resolved_by"]
    date_hierarchy = "received_at"
    actions = ["redrive", "discard"]
    fieldsets = [
        (None, {"fields": ["id", "consumer", "topic", "event_id", "type", "status", "received_at", "resolved_by",
                           "resolved_at", "correlation", "payload_display"]}),
        detalles_tecnicos(["origin_message_id", "properties_json"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)
    properties_json = json_display("properties", "propiedades")

    @admin.display(description="contenido")
    def payload_display(self, obj):
        envelope = dead_letters.envelope_of(obj)
        return tabla(envelope) if envelope is not None else format_html("<pre>{}</pre>", obj.payload)

    @admin.display(description="correlation_id (búsquelo en los logs)")
    def correlation(self, obj):
        return (dead_letters.envelope_of(obj) or {}).get("correlation_id") or "-"

    @admin.action(description="Re-enviar (publicar otra vez por el outbox)", permissions=["reenviar"])
    def redrive(self, request, queryset):
        redriven, refusals = dead_letters.redrive(queryset, request.user)
        if redriven:
            self.message_user(request, f"{redriven} mensaje(s) re-enviado(s); el relay los publica en segundos.")
        for refusal in refusals:
            self.message_user(request, refusal, messages.WARNING)

    @admin.action(description="Descartar (no aplicarlos nunca)", permissions=["reenviar"])
    def discard(self, request, queryset):
        self.message_user(request, f"{dead_letters.discard(queryset, request.user)} mensaje(s) descartado(s).")
