from django.contrib import admin

from .models import UsuarioCliente


@admin.register(UsuarioCliente)
class UsuarioClienteAdmin(admin.ModelAdmin):
    list_display = ["user", "rol", "id_cliente"]
    list_filter = ["rol"]
    search_fields = ["user__username", "id_cliente"]
    raw_id_fields = ["user"]
