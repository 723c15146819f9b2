"""Read-only admin views of the command log, the outbox and the inbox.

These tables are written only by the command log, handlers, relay and consumers; the admin
is for looking, never for fixing rows by hand.
"""

from django.contrib import admin
from django.db.models import Count, Min
from django.utils.timesince import timesince

from alpespartners.admin_display import ReadOnlyAdmin, json_display

from .models import CommandLog, InboxMessage, OutboxMessage


@admin.register(CommandLog)
class CommandLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "context", "status", "source", "issued_by", "resource_id", "attempts",
                    "completed_at"]
    list_filter = ["status", "context", "type", "source", "created_at"]
    search_fields = ["id", "resource_id", "correlation_id", "type", "idempotency_key"]
    list_select_related = ["issued_by"]
    date_hierarchy = "created_at"
    fields = ["id", "context", "type", "status", "resource_id", "source", "issued_by", "idempotency_key",
              "request_fingerprint", "correlation_id", "attempts", "created_at", "completed_at",
              "payload_json", "error_json", "result_json"]
    readonly_fields = fields

    payload_json = json_display("payload", "payload")
    error_json = json_display("error", "error")
    result_json = json_display("result", "result")


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
    change_list_template = "admin/messaging/outboxmessage/change_list.html"
    list_display = ["id", "type", "version", "topic", "aggregate_id", "publicado", "sequence_id", "created_at",
                    "published_at"]
    list_filter = [PublicadoFilter, "topic", "type", "created_at"]
    search_fields = ["event_id", "aggregate_id", "type"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    fields = ["id", "event_id", "topic", "type", "version", "aggregate_id", "sequence_id", "created_at",
              "published_at", "envelope_json"]
    readonly_fields = fields

    @admin.display(description="publicado", boolean=True, ordering="published_at")
    def publicado(self, obj):
        return obj.published_at is not None

    envelope_json = json_display("envelope", "envelope")

    def changelist_view(self, request, extra_context=None):
        if self.has_view_or_change_permission(request):
            # One aggregate query; the partial index outbox_pending keeps it cheap however many rows are published.
            pending = OutboxMessage.objects.filter(published_at__isnull=True).aggregate(
                count=Count("id"), oldest=Min("created_at")
            )
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
    list_display = ["received_at", "consumer", "type", "topic", "event_id"]
    list_filter = ["consumer", "type", "topic", "received_at"]
    search_fields = ["event_id", "type", "consumer"]
    date_hierarchy = "received_at"
    fields = ["id", "consumer", "event_id", "topic", "type", "received_at"]
    readonly_fields = fields
