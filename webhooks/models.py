"""Webhooks' tables: the endpoints clients registered, one delivery per event and endpoint with every
attempt made, and the read model of campaigns (brand, enrolled partners) the routing needs."""

import uuid

from django.db import models


class Endpoint(models.Model):
    """Where a client wants its events. The secret is kept in clear: the signature is made with it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    id_cliente = models.UUIDField(db_index=True)
    url = models.CharField(max_length=2000)
    eventos = models.JSONField()  # the event types it wants, sorted (a JSON list: the embedded default is SQLite)
    secreto = models.CharField(max_length=64, editable=False)
    activo = models.BooleanField(default=True)
    fallos_seguidos = models.PositiveIntegerField(default=0)  # failed attempts since its last 2xx
    deshabilitado_en = models.DateTimeField(null=True, blank=True)  # by the dispatcher, after too many failures
    motivo_deshabilitado = models.CharField(max_length=500, blank=True)
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)

    class Meta:
        db_table = "webhooks_endpoint"
        ordering = ["-fecha_creacion"]
        verbose_name = "endpoint de webhooks"
        verbose_name_plural = "endpoints de webhooks"

    def __str__(self):
        return self.url


class EstadoEntrega(models.TextChoices):
    PENDIENTE = "PENDIENTE"  # due at proximo_intento_en
    ENTREGADA = "ENTREGADA"  # a 2xx came back
    FALLIDA = "FALLIDA"  # no 2xx before plazo_hasta


class Entrega(models.Model):
    """One event for one endpoint: the body is fixed when it is created, so every attempt and every
    replay sends the same bytes with the same event id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="entregas")
    event_id = models.UUIDField()
    tipo = models.CharField(max_length=40)
    cuerpo = models.TextField()  # the envelope as JSON, exactly the bytes that are signed and sent
    estado = models.CharField(max_length=10, choices=EstadoEntrega.choices, default=EstadoEntrega.PENDIENTE)
    intentos = models.PositiveIntegerField(default=0)
    proximo_intento_en = models.DateTimeField("próximo intento")  # while one is under way: when its lease ends
    plazo_hasta = models.DateTimeField()  # retried until then; a replay sets it again
    fecha_creacion = models.DateTimeField("fecha de creación")
    entregada_en = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhooks_entrega"
        ordering = ["-fecha_creacion"]
        verbose_name = "entrega de webhook"
        verbose_name_plural = "entregas de webhooks"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhooks_entrega_una_por_evento")]
        indexes = [
            # The dispatcher's question, per endpoint: which of its deliveries are due, oldest first.
            models.Index(fields=["endpoint", "proximo_intento_en"], name="webhooks_entrega_pendientes",
                         condition=models.Q(estado="PENDIENTE")),
            models.Index(fields=["fecha_creacion"], name="webhooks_entrega_creacion"),  # replay from a time, purge
        ]

    def __str__(self):
        return f"{self.tipo} {self.event_id} → {self.endpoint}"

    @property
    def proximo_si_pendiente(self):
        return self.proximo_intento_en if self.estado == EstadoEntrega.PENDIENTE else None


class Intento(models.Model):
    """One POST of a delivery: what came back, or why nothing did."""

    id = models.BigAutoField(primary_key=True)
    entrega = models.ForeignKey(Entrega, on_delete=models.CASCADE, related_name="intentos_registrados")
    numero = models.PositiveIntegerField("número")
    fecha = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no HTTP answer
    latencia_ms = models.PositiveIntegerField()
    respuesta = models.CharField(max_length=500, blank=True)  # the answer's first bytes, truncated
    error = models.CharField(max_length=500, blank=True)  # timeout, refused connection, forbidden address

    class Meta:
        db_table = "webhooks_intento"
        ordering = ["entrega", "numero"]
        verbose_name = "intento de entrega"
        verbose_name_plural = "intentos de entrega"

    def __str__(self):
        return f"intento {self.numero}: {self.status or self.error}"


class ClienteLocal(models.Model):
    """A client's name, from ClienteRegistrado and ClienteActualizado: for the admin's pages only (the
    routing needs no name)."""

    id = models.UUIDField(primary_key=True)
    nombre = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "webhooks_cliente_local"
        verbose_name = "cliente (copia local)"
        verbose_name_plural = "clientes (copia local)"

    def __str__(self):
        return self.nombre or str(self.id)


class CampaniaLocal(models.Model):
    """Which brand owns a campaign, from CampaniaCreada."""

    id = models.UUIDField(primary_key=True)
    id_marca = models.UUIDField()

    class Meta:
        db_table = "webhooks_campania_local"
        verbose_name = "campaña (copia local)"
        verbose_name_plural = "campañas (copia local)"


class InscripcionLocal(models.Model):
    """A partner enrolled in a campaign, from SocioInscrito (deleted by SocioRetirado)."""

    id_campania = models.UUIDField()
    id_socio = models.UUIDField()

    class Meta:
        db_table = "webhooks_inscripcion_local"
        verbose_name = "inscripción (copia local)"
        verbose_name_plural = "inscripciones (copia local)"
        constraints = [models.UniqueConstraint(fields=["id_campania", "id_socio"], name="webhooks_inscripcion_unica")]
