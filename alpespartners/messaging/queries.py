"""The operational state of messaging, for the admin's home, the outbox list and /metrics, and the
commands about a resource for its page."""

from datetime import datetime

from django.db import connection
from django.db.models import Count, Min, QuerySet

from .models import CommandLog, CommandStatus, DeadLetter, DeadLetterStatus, OutboxMessage


def outbox_pending() -> dict:
    """{"count", "oldest"}: one aggregate over the partial index outbox_pending, cheap however many rows are published."""
    return OutboxMessage.objects.filter(published_at__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at"))


def published_since(since: datetime) -> int:
    return OutboxMessage.objects.filter(published_at__gte=since).count()


def unfinished_and_failed() -> dict[str, int]:
    """{PENDIENTE: n, FALLIDO: n}: through the status index; COMPLETADO, nearly every row of a log
    that is never purged, is not counted."""
    counts = dict(CommandLog.objects.filter(status__in=[CommandStatus.PENDIENTE, CommandStatus.FALLIDO]).order_by()
                  .values("status").annotate(total=Count("id")).values_list("status", "total"))
    return {status: counts.get(status, 0) for status in (CommandStatus.PENDIENTE, CommandStatus.FALLIDO)}


def latency_quantiles(since: datetime, quantiles: tuple[float, ...]) -> list[tuple[str, list[float]]]:
    """[(type, [seconds from accepted to executed at each quantile])] of the commands completed
    among those created since then. PostgreSQL only (percentile_cont)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at)) "
            "FROM messaging_commandlog WHERE completed_at IS NOT NULL AND created_at >= %s GROUP BY type",
            [list(quantiles), since],
        )
        return cursor.fetchall()


def recent_commands(since: datetime) -> list[dict]:
    """[{context, type, status, total}] of the commands created since then."""
    return list(CommandLog.objects.filter(created_at__gte=since).order_by()
                .values("context", "type", "status").annotate(total=Count("id")))


def commands_about(command_type: str, resource_id) -> QuerySet[CommandLog]:
    """The commands of one type about one resource, oldest first (through the type's index)."""
    return (CommandLog.objects.filter(type=command_type, resource_id=resource_id).select_related("issued_by")
            .order_by("created_at"))


def failed_since(since: datetime) -> int:
    return CommandLog.objects.filter(status=CommandStatus.FALLIDO, created_at__gte=since).count()


def pending_before(before: datetime) -> int:
    """Commands still PENDIENTE that were accepted before `before`: a lost task or a stuck worker."""
    return CommandLog.objects.filter(status=CommandStatus.PENDIENTE, created_at__lt=before).count()


def dead_letters_pending() -> dict[str, int]:
    """{consumer: dead letters waiting for an operator}."""
    return dict(DeadLetter.objects.filter(status=DeadLetterStatus.PENDIENTE).order_by().values("consumer")
                .annotate(total=Count("id")).values_list("consumer", "total"))
