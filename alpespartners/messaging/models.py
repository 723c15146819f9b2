import uuid

from django.conf import settings
from django.db import models


class CommandStatus(models.TextChoices):
    PENDIENTE = "PENDIENTE"
    COMPLETADO = "COMPLETADO"
    FALLIDO = "FALLIDO"


class CommandLog(models.Model):
    """Every command, from the API or from `comandos.<contexto>`, before it runs and after."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    context = models.CharField("contexto", max_length=32, db_index=True)
    type = models.CharField("tipo", max_length=64, db_index=True)
    payload = models.JSONField("datos")
    status = models.CharField("estado", max_length=16, choices=CommandStatus.choices, default=CommandStatus.PENDIENTE, db_index=True)
    resource_id = models.UUIDField("recurso", null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    result = models.JSONField("resultado", null=True, blank=True)
    idempotency_key = models.CharField("Idempotency-Key", max_length=255, null=True, blank=True)
    request_fingerprint = models.CharField("huella de la petición", max_length=64, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  verbose_name="emitido por")
    source = models.CharField("origen", max_length=16, default="api")  # api | admin | comandos (a comandos.<contexto> topic)
    correlation_id = models.UUIDField("id de correlación", default=uuid.uuid4)
    # A command re-driven from the admin after it failed: the new entry points at the old one.
    redrive_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redrives",
                                   verbose_name="reintento de")
    attempts = models.PositiveIntegerField("intentos", default=0)
    # The highest outbox id committed when the command was accepted: the events it may depend on
    # (see dependencies.py). Null for a command that depends on no other aggregate.
    outbox_horizon = models.BigIntegerField("horizonte del outbox", null=True, blank=True)
    # When the sweep of stranded commands last enqueued it again: once per COMMAND_SWEEP_AFTER_SECONDS
    # at most, so a slow worker's backlog is not enqueued again every run.
    swept_at = models.DateTimeField("barrido el", null=True, blank=True)
    created_at = models.DateTimeField("creado el", auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField("completado el", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["issued_by", "idempotency_key"], name="command_idempotency_key_per_user"),
        ]
        verbose_name = "comando"

    def __str__(self):
        return f"{self.type} {self.id} ({self.status})"


class OutboxMessage(models.Model):
    """An integration event written in the same transaction as the change it reports.

    `id` orders rows by insert, not by commit; the relay assigns `sequence_id` in publish
    order (see relay.py), which is what Pulsar's deduplication compares.
    """

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField("id del evento", unique=True)
    topic = models.CharField("tópico", max_length=128)
    type = models.CharField("tipo", max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField("versión")
    aggregate_id = models.UUIDField("agregado", db_index=True)
    envelope = models.JSONField("sobre")
    created_at = models.DateTimeField("creado el", auto_now_add=True, db_index=True)
    sequence_id = models.BigIntegerField("secuencia", null=True, blank=True, unique=True)
    published_at = models.DateTimeField("publicado el", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], name="outbox_pending", condition=models.Q(published_at__isnull=True)),
            # The relay's rate (/metrics, the admin's home) and the retention purge look rows up by it.
            models.Index(fields=["published_at"], name="outbox_published_at", condition=models.Q(published_at__isnull=False)),
        ]
        verbose_name = "mensaje del outbox"
        verbose_name_plural = "outbox"

    def __str__(self):
        return f"{self.type} {self.event_id}"


class InboxMessage(models.Model):
    """An event a consumer has applied; recorded in the same transaction as its effect."""

    consumer = models.CharField("consumidor", max_length=64)
    event_id = models.UUIDField("id del evento")
    topic = models.CharField("tópico", max_length=128)
    type = models.CharField("tipo", max_length=64)
    received_at = models.DateTimeField("recibido el", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["consumer", "event_id"], name="inbox_once_per_consumer")]
        verbose_name = "mensaje del inbox"
        verbose_name_plural = "inbox"

    def __str__(self):
        return f"{self.consumer}: {self.type} {self.event_id}"


class DrainRequest(models.Model):
    """A drain of one command type is queued or running (together.py): later commands of the type
    need not enqueue another. Deleted by the drain before each round."""

    key = models.CharField("clave", max_length=100, primary_key=True)  # "<contexto>.<CommandType>"
    requested_at = models.DateTimeField("pedido el")

    class Meta:
        verbose_name = "solicitud de drenaje"
        verbose_name_plural = "solicitudes de drenaje"


class AppliedPosition(models.Model):
    """The outbox position of the last event a consumer applied to one piece of another context's
    state (a `slot`: a campaign's state, one enrolment, a client's state). A redelivered older event
    for the slot is then recognised and skipped instead of overwriting what a newer one wrote."""

    consumer = models.CharField("consumidor", max_length=64)
    slot = models.CharField("pieza de estado", max_length=200)
    position = models.BigIntegerField("posición")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "slot"], name="applied_position_once")]
        verbose_name = "posición aplicada"
        verbose_name_plural = "posiciones aplicadas"


class DeadLetterStatus(models.TextChoices):
    PENDIENTE = "PENDIENTE"  # waits for an operator
    REENVIADO = "REENVIADO"  # re-driven: published again through the outbox
    DESCARTADO = "DESCARTADO"  # an operator decided it must not be applied


class DeadLetter(models.Model):
    """A message a context's consumer gave up on after its bounded redeliveries, copied from the
    context's dead-letter topic so operators can read it and re-drive or discard it from the admin."""

    consumer = models.CharField("consumidor", max_length=64)
    topic = models.CharField("tópico", max_length=128)  # where it was consumed from (Pulsar's REAL_TOPIC)
    origin_message_id = models.CharField("id en el tópico de origen", max_length=64)  # its id on that topic: a DLQ redelivery records nothing new
    event_id = models.UUIDField("id del evento", null=True, blank=True)
    type = models.CharField("tipo", max_length=64, blank=True)
    payload = models.TextField("datos")  # as received; a poison message may not even be JSON
    properties = models.JSONField(default=dict)
    received_at = models.DateTimeField("recibido el", auto_now_add=True, db_index=True)
    status = models.CharField("estado", max_length=16, choices=DeadLetterStatus.choices, default=DeadLetterStatus.PENDIENTE,
                              db_index=True)
    resolved_at = models.DateTimeField("resuelto el", null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    verbose_name="resuelto por")

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["consumer", "origin_message_id"], name="dead_letter_once")]
        verbose_name = "mensaje muerto"
        verbose_name_plural = "mensajes muertos (dead letters)"

    def __str__(self):
        return f"{self.consumer}: {self.type or 'ilegible'} {self.event_id or self.origin_message_id}"
