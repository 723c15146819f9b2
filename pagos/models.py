import uuid

from django.db import models
from django.utils import formats

from alpespartners.admin_display import monto

# Money is a decimal and a currency, never a float; four places cover every ISO 4217 currency.
VALOR = dict(max_digits=20, decimal_places=4)


class PagoModel(models.Model):
    """Write side of the `Pago` aggregate. One charge per campaign is the database's job (unique id_campania)."""

    id = models.UUIDField(primary_key=True)
    id_campania = models.UUIDField("campaña", unique=True)
    id_cliente = models.UUIDField("cliente", db_index=True)
    valor = models.DecimalField(**VALOR)
    moneda = models.CharField(max_length=3)
    estado = models.CharField(max_length=16)
    motivo = models.TextField(null=True)
    confirmacion = models.CharField("confirmación", max_length=128, null=True)
    confirmacion_reembolso = models.CharField("confirmación del reembolso", max_length=128, null=True)
    version = models.PositiveIntegerField("versión", default=0)
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)

    class Meta:
        db_table = "pagos_pago"
        verbose_name = "pago (agregado)"
        verbose_name_plural = "pagos (agregado)"


class CobroView(models.Model):
    """Read model behind GET /pagos/cobros and the admin."""

    id = models.UUIDField(primary_key=True)
    id_campania = models.UUIDField("campaña", db_index=True)
    id_cliente = models.UUIDField("cliente", db_index=True)
    valor = models.DecimalField(**VALOR)
    moneda = models.CharField(max_length=3, db_index=True)
    estado = models.CharField(max_length=16, db_index=True)
    motivo = models.TextField(null=True, blank=True)
    confirmacion = models.CharField("confirmación", max_length=128, null=True, blank=True)
    fecha_creacion = models.DateTimeField("fecha de creación")
    fecha_actualizacion = models.DateTimeField("fecha de actualización")

    class Meta:
        ordering = ["-fecha_creacion"]
        verbose_name = "cobro"

    def __str__(self):
        return f"Cobro de la campaña {nombre_de_campania(self.id_campania)} ({self.estado})"


class ClienteLocal(models.Model):
    """pagos' own copy of what it needs of each client, fed only by eventos.cliente."""

    id = models.UUIDField(primary_key=True)
    estado = models.CharField(max_length=16, blank=True)  # blank until ClienteRegistrado arrives
    # Blank until ClienteRegistrado arrives (or `fill_local_copies`, for clients older than this column).
    # The columns added after the table have a default in the database too: a process of the previous
    # release, inserting without them during a deploy, still writes its row.
    nombre = models.CharField(max_length=200, blank=True, db_default="")
    token_predeterminado = models.CharField(max_length=128, blank=True)
    mascara = models.CharField("máscara del medio predeterminado", max_length=64, blank=True, db_default="")
    fecha_actualizacion = models.DateTimeField("fecha de actualización", auto_now=True)

    class Meta:
        db_table = "pagos_cliente_local"
        verbose_name = "cliente (copia local)"
        verbose_name_plural = "clientes (copia local)"

    def __str__(self):
        return self.nombre or str(self.id)


class OperacionSimulada(models.Model):
    """Memory of the `simulada` gateway (pasarela.py), not of the domain: like a real provider it
    remembers each idempotency key, so a retry in another worker process gets the same answer."""

    clave_idempotencia = models.CharField(max_length=200, primary_key=True)
    tipo = models.CharField(max_length=16)  # COBRO | REEMBOLSO | PAYOUT
    token = models.CharField(max_length=128)
    valor = models.DecimalField(**VALOR)
    moneda = models.CharField(max_length=3)
    intentos = models.PositiveIntegerField(default=0)
    confirmacion = models.CharField("confirmación", max_length=64, null=True)
    motivo_declinacion = models.CharField("motivo de declinación", max_length=200, blank=True)
    codigo_declinacion = models.CharField("código de declinación", max_length=64, blank=True, db_default="")
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)

    class Meta:
        db_table = "pagos_operacion_simulada"
        verbose_name = "operación de la pasarela simulada"
        verbose_name_plural = "operaciones de la pasarela simulada"


# --- conversions → commissions ---------------------------------------------------------


class CampaniaLocal(models.Model):
    """pagos' copy of each campaign, fed by eventos.campanias, and the budget its commissions
    consume. The row is locked while a batch of conversions decides, so the budget never goes
    below zero and PresupuestoAgotado leaves once."""

    id = models.UUIDField(primary_key=True)
    id_marca = models.UUIDField("marca", db_index=True)
    # Blank for campaigns older than this column, until backfilled.
    nombre = models.CharField(max_length=200, blank=True, db_default="")
    estado = models.CharField(max_length=16)
    fecha_inicio = models.DateField("fecha de inicio")
    fecha_fin = models.DateField("fecha de fin")
    moneda = models.CharField(max_length=3)
    presupuesto = models.DecimalField(**VALOR)
    presupuesto_disponible = models.DecimalField(**VALOR)
    comisiones = models.JSONField()
    dias_retencion = models.PositiveSmallIntegerField("días de retención")
    url_destino = models.URLField("URL de destino", max_length=2000, null=True, blank=True)  # null: clicks answer 404
    ventana_atribucion_dias = models.PositiveSmallIntegerField("ventana de atribución (días)", default=30)
    agotado_publicado = models.BooleanField(default=False)
    fecha_actualizacion = models.DateTimeField("fecha de actualización", auto_now=True)

    class Meta:
        db_table = "pagos_campania_local"
        verbose_name = "campaña (copia local)"
        verbose_name_plural = "campañas (copia local)"
        constraints = [models.CheckConstraint(condition=models.Q(presupuesto_disponible__gte=0),
                                              name="pagos_presupuesto_no_negativo")]

    def __str__(self):
        return self.nombre or f"Campaña {self.id}"


class SocioCampaniaLocal(models.Model):
    """An enrolment as campanias' events tell it: the row exists while the partner is enrolled."""

    id_campania = models.UUIDField("campaña")
    id_socio = models.UUIDField("socio", db_index=True)

    class Meta:
        db_table = "pagos_socio_campania_local"
        verbose_name = "inscripción (copia local)"
        verbose_name_plural = "inscripciones (copia local)"
        constraints = [models.UniqueConstraint(fields=["id_campania", "id_socio"], name="pagos_socio_campania_unico")]


class EnlaceLocal(models.Model):
    """A partner's tracking link as campanias' events tell it (EnlaceCreado; SocioRetirado retires it)."""

    codigo = models.CharField("código", max_length=64, unique=True)
    id_campania = models.UUIDField("campaña")
    id_socio = models.UUIDField("socio")
    activo = models.BooleanField(default=True)

    class Meta:
        db_table = "pagos_enlace_local"
        verbose_name = "enlace (copia local)"
        verbose_name_plural = "enlaces (copia local)"
        indexes = [models.Index(fields=["id_campania", "id_socio"], name="pagos_enlace_inscripcion")]

    def __str__(self):
        return self.codigo


class Click(models.Model):
    """A click or an impression on a tracking link, written in batches by the web process
    (pagos/clicks.py). Only the primary key, the campaign's time range and the partial index of rows
    waiting to be billed are indexed, so the hottest insert of the platform maintains at most three;
    billing sets `facturado_en` once per row."""

    id = models.UUIDField(primary_key=True)  # the click_id the landing page receives
    tipo = models.CharField(max_length=16)  # CLICK | IMPRESION
    codigo = models.CharField("código", max_length=64)
    id_campania = models.UUIDField("campaña")
    id_socio = models.UUIDField("socio")
    ocurrido_en = models.DateTimeField("ocurrido el")
    ip = models.CharField(max_length=45, blank=True)  # truncated: IPv4 /24, IPv6 /48
    user_agent = models.CharField(max_length=512, blank=True)
    referrer = models.CharField(max_length=1024, blank=True)
    facturable = models.BooleanField()
    motivo = models.CharField(max_length=32, null=True, blank=True)  # why not billable
    # Set when a billable row is billed (pagos.facturar_interacciones): its commission, or the code of
    # why it earned none (presupuesto_agotado, campania_no_aprobada, ...).
    facturado_en = models.DateTimeField("facturado el", null=True, blank=True)
    id_transaccion = models.UUIDField("comisión", null=True, blank=True)
    rechazo = models.CharField(max_length=32, null=True, blank=True)

    class Meta:
        db_table = "pagos_click"
        verbose_name = "clic"
        verbose_name_plural = "clics"
        indexes = [
            models.Index(fields=["id_campania", "ocurrido_en"], name="pagos_click_campania_fecha"),
            # What billing claims, oldest first: only the billable rows not billed yet, so the index
            # stays as small as the backlog and non-billable inserts never touch it.
            models.Index(fields=["ocurrido_en"], name="pagos_click_por_facturar",
                         condition=models.Q(facturable=True, facturado_en__isnull=True)),
        ]

    def __str__(self):
        return f"{self.tipo} {self.id}"


class CredencialPostback(models.Model):
    """A brand's postback secret. Kept in clear because an HMAC can only be checked with the secret
    itself; it never leaves pagos (no event carries it, the API shows it once, at rotation). After a
    rotation the previous one works until `vence_en`; the current one has none."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    id_cliente = models.UUIDField("cliente", db_index=True)
    secreto = models.CharField(max_length=64, editable=False)
    huella = models.CharField(max_length=64, unique=True, editable=False)  # SHA-256: how a token is found
    fecha_creacion = models.DateTimeField("fecha de creación")
    vence_en = models.DateTimeField("vence el", null=True, blank=True)

    class Meta:
        db_table = "pagos_credencial_postback"
        ordering = ["-fecha_creacion"]
        verbose_name = "secreto de postback"
        verbose_name_plural = "secretos de postback"

    def __str__(self):
        return f"Secreto de postback {self.huella[:12]}… de {nombre_de_cliente(self.id_cliente)}"


class Transaccion(models.Model):
    """A commission (the seed's `Transaction`), or a negative adjustment (tipo AJUSTE) for a refund
    after payment. Write model and read model in one table: batches of 1,000 conversions and payout
    cycles over millions of rows work on it set-based, and a second copy would double those writes.
    The database keeps one commission per (campaign, id_externo).

    No index covers `estado` or `id_payout`, and the table keeps half of each page free
    (fillfactor 50, migration 0005): a payout's claim and its answer then rewrite each row in place
    (PostgreSQL's HOT update) instead of adding a row version and an entry in every index. Rows of
    a payout are found through its partner (`id_socio` is indexed)."""

    id = models.UUIDField(primary_key=True)
    id_campania = models.UUIDField("campaña")
    id_socio = models.UUIDField("socio", db_index=True)
    id_externo = models.CharField(max_length=200)
    tipo = models.CharField(max_length=16)
    monto_conversion = models.DecimalField("monto de la conversión", null=True, blank=True, **VALOR)
    comision = models.DecimalField("comisión", **VALOR)  # negative for an AJUSTE
    moneda = models.CharField(max_length=3)
    estado = models.CharField(max_length=16)
    ocurrida_en = models.DateTimeField("ocurrida el")
    pagable_desde = models.DateTimeField("pagable desde")
    id_payout = models.UUIDField(null=True, blank=True)  # set when its payout is sent, not when calculated
    # Numbered by the database at insert (migration 0006), in commit order as far as a payout cycle
    # can tell: the cycle locks the table while it reads, so every row it did not see gets a higher
    # number. A payout covers its partner's rows up to the highest number it saw.
    secuencia = models.BigIntegerField(null=True, editable=False)
    id_transaccion_original = models.UUIDField("comisión ajustada", null=True, blank=True)  # an AJUSTE's commission
    motivo_reversion = models.TextField("motivo de la reversión", blank=True)
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)

    class Meta:
        db_table = "pagos_transaccion"
        ordering = ["-fecha_creacion"]
        verbose_name = "transacción"
        verbose_name_plural = "transacciones"
        constraints = [
            models.UniqueConstraint(fields=["id_campania", "id_externo"], name="pagos_conversion_unica",
                                    condition=models.Q(id_transaccion_original__isnull=True)),
            # One adjustment per paid commission; partial, so commissions add nothing to this index.
            models.UniqueConstraint(fields=["id_transaccion_original"], name="pagos_ajuste_unico",
                                    condition=models.Q(id_transaccion_original__isnull=False)),
        ]
        indexes = [models.Index(fields=["id_campania"], name="pagos_transaccion_campania")]

    def __str__(self):
        return f"{self.tipo} {self.id_externo}: {monto(self.comision, self.moneda)} ({self.estado})"


# --- payout cycles ----------------------------------------------------------------------


class CicloPago(models.Model):
    """One run of the payout batch for a cut-off date. Its id is computed from the date, so the
    same cut-off twice (a rerun, two schedulers) is one cycle."""

    id = models.UUIDField(primary_key=True)
    fecha_corte = models.DateField("fecha de corte", unique=True)
    estado = models.CharField(max_length=16)  # domain.EstadoCiclo: EN_CURSO while calculating, then CALCULADO
    origen = models.CharField(max_length=16)  # programador | api | consola
    payouts = models.PositiveIntegerField(default=0)
    transacciones = models.PositiveIntegerField(default=0)
    totales = models.JSONField(default=list)  # [Monto], one per currency
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)  # when the cycle started (API: iniciado_en)
    calculado_en = models.DateTimeField("calculado el", null=True, blank=True)

    class Meta:
        db_table = "pagos_ciclo"
        ordering = ["-fecha_corte"]
        verbose_name = "ciclo de pagos"
        verbose_name_plural = "ciclos de pagos"

    def __str__(self):
        return f"Ciclo del {formats.localize(self.fecha_corte)} ({self.estado})"


class Payout(models.Model):
    """What one partner is paid in one currency by one cycle."""

    id = models.UUIDField(primary_key=True)
    id_ciclo = models.UUIDField("ciclo", db_index=True)
    fecha_corte = models.DateField("fecha de corte")
    id_socio = models.UUIDField("socio", db_index=True)
    moneda = models.CharField(max_length=3)
    monto_total = models.DecimalField(**VALOR)
    transacciones = models.PositiveIntegerField()
    estado = models.CharField(max_length=16, db_index=True)
    # What it covers, until it claims its rows when first sent: its partner's payable rows in its
    # currency payable before `pagable_antes_de` and numbered up to `hasta_secuencia`.
    pagable_antes_de = models.DateTimeField("pagable antes de")
    hasta_secuencia = models.BigIntegerField("hasta la secuencia")
    intentos = models.PositiveIntegerField(default=0)  # sendings to the gateway (a retry after FALLIDO adds one)
    confirmacion = models.CharField("confirmación", max_length=128, blank=True)
    motivo_fallo = models.TextField("motivo del fallo", blank=True)
    version = models.PositiveIntegerField("versión", default=1)
    fecha_creacion = models.DateTimeField("fecha de creación", auto_now_add=True)
    fecha_actualizacion = models.DateTimeField("fecha de actualización", auto_now=True)

    class Meta:
        db_table = "pagos_payout"
        ordering = ["-fecha_creacion"]
        constraints = [
            models.UniqueConstraint(fields=["id_ciclo", "id_socio", "moneda"], name="pagos_payout_unico"),
            # One payout in flight per partner and currency: what it covers is then still what it pays.
            models.UniqueConstraint(fields=["id_socio", "moneda"], name="pagos_un_payout_en_curso",
                                    condition=models.Q(estado__in=["CALCULADO", "EN_PROCESO"])),
        ]

    def __str__(self):
        return f"Payout de {monto(self.monto_total, self.moneda)} a {nombre_de_cliente(self.id_socio)} ({self.estado})"

    @property
    def sin_enviar(self) -> bool:
        """Calculated and never sent: the rows it covers are not claimed yet (no id_payout)."""
        return self.estado == "CALCULADO" and self.intentos == 0


class IntentoPayout(models.Model):
    """One sending of a payout and the gateway's answer (or silence): the payout's timeline in the
    admin, written with the payout's change in one transaction (repository.guardar_payout). Kept
    here because the outbox, where its events also are, is purged."""

    id = models.BigAutoField(primary_key=True)
    id_payout = models.UUIDField("payout", db_index=True)
    intento = models.PositiveIntegerField()  # the payout's sending it belongs to (a retry after FALLIDO is the next)
    resultado = models.CharField(max_length=16)  # domain.ResultadoIntento
    enviado_en = models.DateTimeField("enviado el", null=True, blank=True)  # null: it never reached the gateway
    respondido_en = models.DateTimeField("respondido el")
    codigo = models.CharField("código", max_length=64, blank=True)  # the gateway's, or ours (domain.SIN_MEDIO_DE_PAGO…)
    mensaje = models.TextField(blank=True)
    mascara = models.CharField("medio de pago", max_length=64, blank=True)
    confirmacion = models.CharField("confirmación", max_length=128, blank=True)

    class Meta:
        db_table = "pagos_intento_payout"
        ordering = ["id"]
        verbose_name = "intento de payout"
        verbose_name_plural = "intentos de payout"


# One row's title (breadcrumbs, the page's heading): one query. Lists annotate names instead
# (queries.con_nombres). Until the copy has the name, the id stands in.
def nombre_de_cliente(id_cliente) -> str:
    return ClienteLocal.objects.filter(id=id_cliente).values_list("nombre", flat=True).first() or str(id_cliente)


def nombre_de_campania(id_campania) -> str:
    return CampaniaLocal.objects.filter(id=id_campania).values_list("nombre", flat=True).first() or str(id_campania)
