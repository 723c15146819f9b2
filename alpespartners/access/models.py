from django.conf import settings
from django.db import models


class Rol(models.TextChoices):
    MARCA = "marca"
    SOCIO = "socio"


class UsuarioCliente(models.Model):
    """Links an API user to the client it acts for. Staff users need no link: they see everything."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cliente_vinculado")
    id_cliente = models.UUIDField(db_index=True)
    rol = models.CharField(max_length=8, choices=Rol.choices)

    class Meta:
        verbose_name = "usuario de un cliente"
        verbose_name_plural = "usuarios de clientes"

    def __str__(self):
        return f"{self.user} → {self.rol} {self.id_cliente}"
