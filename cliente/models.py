from django.db import models


class ClienteModel(models.Model):
    """Write side of the `Cliente` aggregate. Uniqueness of email and documents is the database's job."""

    id = models.UUIDField(primary_key=True)
    tipo = models.CharField(max_length=16)
    nombre = models.CharField(max_length=200)
    email = models.CharField(max_length=254, unique=True)
    cedula = models.CharField(max_length=10, null=True, unique=True)
    nit = models.CharField(max_length=11, null=True, unique=True)
    fecha_nacimiento = models.DateField("fecha de nacimiento", null=True)
    fecha_constitucion = models.DateField("fecha de constitución", null=True)
    estado = models.CharField(max_length=16)
    medios_pago = models.JSONField(default=list)
    version = models.PositiveIntegerField("versión", default=0)
    fecha_registro = models.DateTimeField("fecha de registro", auto_now_add=True)

    class Meta:
        db_table = "cliente_cliente"
        verbose_name = "cliente (agregado)"
        verbose_name_plural = "clientes (agregado)"


class ClienteView(models.Model):
    """Read model behind GET /clientes and the admin."""

    id = models.UUIDField(primary_key=True)
    tipo = models.CharField(max_length=16, db_index=True)
    nombre = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    tipo_documento = models.CharField("tipo de documento", max_length=8)
    numero_documento = models.CharField("número de documento", max_length=11)
    estado = models.CharField(max_length=16, db_index=True)
    fecha_registro = models.DateTimeField("fecha de registro")
    medios_pago = models.JSONField(default=list)  # [{id, tipo, mascara, predeterminado}], never the token
    total_pagos = models.JSONField(default=list)  # [Monto], one per currency, fed by eventos.pagos
    ultimo_pago = models.DateTimeField("último pago", null=True, blank=True)

    class Meta:
        ordering = ["-fecha_registro"]
        verbose_name = "cliente"

    def __str__(self):
        return f"{self.nombre} ({self.numero_documento})"
