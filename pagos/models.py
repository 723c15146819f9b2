from django.db import models

# Money is a decimal and a currency, never a float; four places cover every ISO 4217 currency.
VALOR = dict(max_digits=20, decimal_places=4)


class PagoModel(models.Model):
    """Write side of the `Pago` aggregate. One charge per campaign is the database's job (unique id_campania)."""

    id = models.UUIDField(primary_key=True)
    id_campania = models.UUIDField(unique=True)
    id_cliente = models.UUIDField(db_index=True)
    valor = models.DecimalField(**VALOR)
    moneda = models.CharField(max_length=3)
    estado = models.CharField(max_length=16)
    motivo = models.TextField(null=True)
    confirmacion = models.CharField(max_length=128, null=True)
    confirmacion_reembolso = models.CharField(max_length=128, null=True)
    version = models.PositiveIntegerField(default=0)
    fecha_creacion = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pagos_pago"


class CobroView(models.Model):
    """Read model behind GET /pagos/cobros and the admin."""

    id = models.UUIDField(primary_key=True)
    id_campania = models.UUIDField(db_index=True)
    id_cliente = models.UUIDField(db_index=True)
    valor = models.DecimalField(**VALOR)
    moneda = models.CharField(max_length=3, db_index=True)
    estado = models.CharField(max_length=16, db_index=True)
    motivo = models.TextField(null=True, blank=True)
    confirmacion = models.CharField(max_length=128, null=True, blank=True)
    fecha_creacion = models.DateTimeField()
    fecha_actualizacion = models.DateTimeField()

    class Meta:
        ordering = ["-fecha_creacion"]
        verbose_name = "cobro"

    def __str__(self):
        return f"Cobro de la campaña {self.id_campania} ({self.estado})"


class ClienteLocal(models.Model):
    """pagos' own copy of what it needs of each client, fed only by eventos.cliente."""

    id = models.UUIDField(primary_key=True)
    estado = models.CharField(max_length=16, blank=True)  # blank until ClienteRegistrado arrives
    token_predeterminado = models.CharField(max_length=128, blank=True)
    fecha_actualizacion = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "pagos_cliente_local"
        verbose_name = "cliente (copia local)"
        verbose_name_plural = "clientes (copia local)"


class OperacionSimulada(models.Model):
    """Memory of the `simulada` gateway (pasarela.py), not of the domain: like a real provider it
    remembers each idempotency key, so a retry in another worker process gets the same answer."""

    clave_idempotencia = models.CharField(max_length=200, primary_key=True)
    tipo = models.CharField(max_length=16)  # COBRO | REEMBOLSO
    token = models.CharField(max_length=128)
    valor = models.DecimalField(**VALOR)
    moneda = models.CharField(max_length=3)
    intentos = models.PositiveIntegerField(default=0)
    confirmacion = models.CharField(max_length=64, null=True)
    motivo_declinacion = models.CharField(max_length=200, blank=True)
    fecha_creacion = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pagos_operacion_simulada"
        verbose_name = "operación de la pasarela simulada"
        verbose_name_plural = "operaciones de la pasarela simulada"
