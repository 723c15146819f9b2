"""The operational state of messaging, for the admin's home, the outbox list and /metrics."""

from datetime import datetime

from django.db.models import Count, Min

from .models import CommandLog, CommandStatus, DeadLetter, DeadLetterStatus, OutboxMessage


def outbox_pending() -> dict:
    """{"count", "oldest"}: one aggregate over the partial index outbox_pending, cheap however many rows are published."""
    return OutboxMessage.objects.filter(published_at__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at"))


def published_since(since: datetime) -> int:
    return OutboxMessage.objects.filter(published_at__gte=since).count()


def commands_by_status() -> dict[str, int]:
    return dict(CommandLog.objects.order_by().values("status").annotate(total=Count("id")).values_list("status", "total"))


def recent_commands(since: datetime) -> list[dict]:
    """[{context, type, status, total}] of the commands created since then."""
    return list(CommandLog.objects.filter(created_at__gte=since).order_by()
                .values("context", "type", "status").annotate(total=Count("id")))


def failed_since(since: datetime) -> int:
    return CommandLog.objects.filter(status=CommandStatus.FALLIDO, created_at__gte=since).count()


def pending_before(before: datetime) -> int:
    """Commands still PENDIENTE that were accepted before `before`: a lost task or a stuck worker."""
    return CommandLog.objects.filter(status=CommandStatus.PENDIENTE, created_at__lt=before).count()


def dead_letters_pending() -> dict[str, int]:
    """{consumer: dead letters waiting for an operator}."""
    return dict(DeadLetter.objects.filter(status=DeadLetterStatus.PENDIENTE).order_by().values("consumer")
                .annotate(total=Count("id")).values_list("consumer", "total"))
