from django.db import models


# --- the event store (write side) --------------------------------------------


class EventoCampania(models.Model):
    """One stored event of one campaign. The unique (aggregate_id, version) is the optimistic
    lock: of two writers that loaded the same version, the second one's insert fails."""

    id = models.BigAutoField(primary_key=True)
    aggregate_id = models.UUIDField("agregado")
    version = models.PositiveIntegerField("versión")
    event_id = models.UUIDField("id del evento", unique=True)
    type = models.CharField("tipo", max_length=64)
    schema_version = models.PositiveSmallIntegerField()  # the event type's version when it was stored
    data = models.JSONField()
    occurred_at = models.DateTimeField()
    correlation_id = models.UUIDField("id de correlación", null=True, blank=True)
    causation_id = models.UUIDField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["aggregate_id", "version"]
        constraints = [models.UniqueConstraint(fields=["aggregate_id", "version"], name="evento_campania_version_unica")]
        verbose_name = "evento de campaña"
        verbose_name_plural = "eventos de campañas"

    def __str__(self):
        return f"{self.type} v{self.schema_version} #{self.version}"


class SnapshotCampania(models.Model):
    """The latest snapshot of a campaign; loading replays only the events after `version`."""

    aggregate_id = models.UUIDField("agregado", primary_key=True)
    version = models.PositiveIntegerField("versión")
    schema_version = models.PositiveSmallIntegerField()
    state = models.JSONField()
    fecha_actualizacion = models.DateTimeField("fecha de actualización", auto_now=True)  # when the snapshot was last written

    class Meta:
        verbose_name = "instantánea de campaña"
        verbose_name_plural = "instantáneas de campañas"


class SagaAprobacionModel(models.Model):
    """A persisted approval saga (process manager) with its step history."""

    id_campania = models.UUIDField("id de la campaña", primary_key=True)
    estado = models.CharField(max_length=32, db_index=True)
    id_pago = models.UUIDField("id del pago", null=True, blank=True)
    vence_en = models.DateTimeField("vence el", db_index=True)
    plazo_segundos = models.PositiveIntegerField("plazo (segundos)")
    pasos = models.JSONField(default=list)
    version = models.PositiveIntegerField("versión", default=0)
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)
    fecha_actualizacion = models.DateTimeField("fecha de actualización", auto_now=True)

    class Meta:
        db_table = "campanias_saga_aprobacion"
        ordering = ["-fecha_creacion"]
        verbose_name = "saga de aprobación"
        verbose_name_plural = "sagas de aprobación"

    def __str__(self):
        # The page's title and breadcrumbs: the campaign by its name (one lookup), by its id until its row exists.
        nombre = CampaniaView.objects.filter(id=self.id_campania).values_list("nombre", flat=True).first()
        return f"saga de {nombre or self.id_campania} ({self.estado})"


# --- read models ----------------------------------------------------------------


class CampaniaView(models.Model):
    """Read model behind GET /campanias and the admin; rebuildable from the event store."""

    id = models.UUIDField(primary_key=True)
    id_cliente = models.UUIDField("id de la marca", db_index=True)
    nombre = models.CharField(max_length=200)
    estado = models.CharField(max_length=16, db_index=True)
    presupuesto = models.DecimalField(max_digits=20, decimal_places=4)
    presupuesto_disponible = models.DecimalField(max_digits=20, decimal_places=4)
    moneda = models.CharField(max_length=3)
    fecha_inicio = models.DateField("fecha de inicio")
    fecha_fin = models.DateField("fecha de fin", db_index=True)
    comisiones = models.JSONField()
    dias_retencion = models.PositiveSmallIntegerField("días de retención")
    url_destino = models.CharField("URL de destino", max_length=2000, null=True, blank=True)  # where its tracking links send visitors
    ventana_atribucion_dias = models.PositiveSmallIntegerField("ventana de atribución (días)", default=30)
    motivo = models.CharField(max_length=500, blank=True)  # why it was paused, finished or cancelled
    version = models.PositiveIntegerField("versión")
    fecha_creacion = models.DateTimeField("fecha de creación")
    fecha_actualizacion = models.DateTimeField("fecha de actualización")

    class Meta:
        ordering = ["-fecha_creacion"]
        verbose_name = "campaña"

    def __str__(self):
        return self.nombre


class SocioCampaniaView(models.Model):
    """An enrolled partner; `suspendido` flags a partner suspended in `cliente` (the enrolment stays)."""

    campania = models.ForeignKey(CampaniaView, on_delete=models.CASCADE, related_name="socios")
    id_socio = models.UUIDField("socio", db_index=True)
    inscrito_en = models.DateTimeField("inscrito el")
    suspendido = models.BooleanField(default=False)
    codigo_enlace = models.CharField(max_length=32, null=True, blank=True, unique=True)  # GET /t/{codigo}

    class Meta:
        ordering = ["inscrito_en"]
        constraints = [models.UniqueConstraint(fields=["campania", "id_socio"], name="socio_una_vez_por_campania")]
        verbose_name = "socio inscrito"
        verbose_name_plural = "socios inscritos"


class PresupuestoConsumido(models.Model):
    """What pagos' commissions have consumed of a campaign's budget, fed by eventos.pagos.
    Kept apart from CampaniaView because a rebuild empties the view, and pagos' events are not
    in this context's store; a commission may also arrive before its campaign's row exists."""

    id_campania = models.UUIDField("campaña", primary_key=True)
    consumido = models.DecimalField(max_digits=20, decimal_places=4, default=0)

    class Meta:
        verbose_name = "presupuesto consumido"
        verbose_name_plural = "presupuestos consumidos"


class ClienteLocal(models.Model):
    """What campanias knows of a client, fed only by eventos.cliente."""

    id = models.UUIDField(primary_key=True)
    tipo = models.CharField(max_length=16)
    nombre = models.CharField(max_length=200)
    estado = models.CharField(max_length=16)

    class Meta:
        verbose_name = "cliente (copia local)"
        verbose_name_plural = "clientes (copia local)"

    def __str__(self):
        return self.nombre
