"""Back-office view of pagos: campaign charges, commissions, payouts and their cycles.

Every row here is written by commands, handlers and set-based cycles; the admin is for looking.
Its one command, reintentar, issues ReintentarPayout through the command log like the API does; a
brand's postback secret is rotated here as through POST /clientes/{id}/secreto-postback; commissions
and payouts are exported to CSV as GET /pagos/transacciones.csv and /pagos/payouts.csv write them."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from alpespartners.admin_display import ReadOnlyAdmin, json_display, monto
from alpespartners.messaging.admin_actions import CommandActionsAdmin, commands_link

from . import exports, postbacks, queries
from .commands import ReintentarPayout
from .domain import EstadoPayout, EstadoTransaccion
from .models import (CampaniaLocal, CicloPago, ClienteLocal, Click, CobroView, CredencialPostback, EnlaceLocal, Payout,
                     Transaccion)

TRANSACCIONES_EN_DETALLE = 200  # a payout may hold thousands; the changelist pages through the rest


def enlace(url: str, texto) -> str:
    return format_html('<a href="{}">{}</a>', url, texto)


@admin.register(CobroView)
class CobroViewAdmin(ReadOnlyAdmin):
    list_display = ["id_campania", "id_cliente", "monto_display", "estado", "fecha_creacion", "fecha_actualizacion"]
    list_filter = ["estado", "moneda"]
    search_fields = ["id_campania", "id_cliente"]
    date_hierarchy = "fecha_creacion"
    fields = ["id", "id_campania", "id_cliente", "monto_display", "estado", "motivo", "confirmacion",
              "fecha_creacion", "fecha_actualizacion", "comandos"]
    readonly_fields = fields

    @admin.display(description="monto", ordering="valor")
    def monto_display(self, obj):
        return monto(obj.valor, obj.moneda)

    comandos = commands_link("Ver los comandos de este cobro")


class EstadoActualFilter(admin.SimpleListFilter):
    """Filters on the state the API shows, so PAGABLE includes PENDIENTE rows past their retention."""

    title, parameter_name = "estado", "estado"

    def lookups(self, request, model_admin):
        return [(estado.value, estado.value) for estado in EstadoTransaccion]

    def queryset(self, request, queryset):
        return queryset.filter(estado_actual=self.value()) if self.value() else queryset


@admin.register(Transaccion)
class TransaccionAdmin(ReadOnlyAdmin):
    list_display = ["id_externo", "tipo", "id_socio", "id_campania", "comision_display", "estado_display",
                    "pagable_desde", "payout"]
    list_filter = [EstadoActualFilter, "tipo", "moneda"]
    search_fields = ["id_externo", "id_socio", "id_campania", "id_payout"]
    date_hierarchy = "pagable_desde"
    actions = ["exportar_csv"]
    fields = ["id", "id_externo", "tipo", "id_socio", "id_campania", "conversion_display", "comision_display",
              "estado_display", "ocurrida_en", "pagable_desde", "payout", "id_transaccion_original",
              "motivo_reversion", "fecha_creacion", "comandos"]
    readonly_fields = fields

    comandos = commands_link("Ver los comandos de esta transacción")

    def get_queryset(self, request):
        # The API's view of the rows: the state is read against the clock (estado_actual).
        return queries.transacciones()

    @admin.display(description="comisión", ordering="comision")
    def comision_display(self, obj):
        return monto(obj.comision, obj.moneda)

    @admin.display(description="monto de la conversión")
    def conversion_display(self, obj):
        return None if obj.monto_conversion is None else monto(obj.monto_conversion, obj.moneda)

    @admin.display(description="estado", ordering="estado_actual")
    def estado_display(self, obj):
        return obj.estado_actual

    @admin.display(description="payout", ordering="id_payout")
    def payout(self, obj):
        if obj.id_payout is None:
            return None
        return enlace(reverse("admin:pagos_payout_change", args=[obj.id_payout]), obj.id_payout)

    @admin.action(description="Exportar a CSV")
    def exportar_csv(self, request, queryset):
        return exports.respuesta(exports.TRANSACCIONES, queryset)


@admin.register(Payout)
class PayoutAdmin(CommandActionsAdmin):
    command_context, command_id_field = "pagos", "id_payout"
    list_display = ["id_socio", "fecha_corte", "monto_display", "estado", "intentos", "transacciones", "confirmacion"]
    list_filter = ["estado", "moneda", "fecha_corte"]
    search_fields = ["id_socio", "id", "id_ciclo"]
    actions = ["reintentar", "exportar_csv"]
    fields = ["id", "ciclo", "fecha_corte", "id_socio", "monto_display", "estado", "intentos", "transacciones",
              "pagable_antes_de", "hasta_secuencia", "confirmacion", "motivo_fallo", "version", "fecha_creacion",
              "fecha_actualizacion", "detalle_transacciones", "comandos"]
    readonly_fields = fields

    comandos = commands_link("Ver los comandos de este payout")

    @admin.display(description="monto total", ordering="monto_total")
    def monto_display(self, obj):
        return monto(obj.monto_total, obj.moneda)

    @admin.display(description="ciclo")
    def ciclo(self, obj):
        return enlace(reverse("admin:pagos_ciclopago_change", args=[obj.id_ciclo]), obj.fecha_corte)

    @admin.display(description="sus transacciones")
    def detalle_transacciones(self, obj):
        # One row more than shown tells whether the table is cut without a COUNT(*).
        transacciones = list(queries.transacciones(id_payout=obj.id)[:TRANSACCIONES_EN_DETALLE + 1])
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (transaccion.id_externo, transaccion.tipo, monto(transaccion.comision, transaccion.moneda),
             transaccion.estado_actual)
            for transaccion in transacciones[:TRANSACCIONES_EN_DETALLE]
        ))
        tabla = "<table><tr><th>id externo</th><th>tipo</th><th>comisión</th><th>estado</th></tr>{}</table>{}"
        if obj.sin_enviar:
            # Not claimed yet (they take its id when it is sent): the list cannot filter by it.
            return format_html(tabla, rows, "Las comisiones que cubre; las toma al enviarse.")
        url = reverse("admin:pagos_transaccion_changelist") + f"?id_payout={obj.id}"
        todas = (f"Solo se muestran las primeras {TRANSACCIONES_EN_DETALLE}; ver todas"
                 if len(transacciones) > TRANSACCIONES_EN_DETALLE else "Ver en la lista de transacciones")
        return format_html(tabla, rows, enlace(url, todas))

    @admin.action(description="Reintentar los payouts FALLIDOS seleccionados", permissions=["emitir_comandos"])
    def reintentar(self, request, queryset):
        # Only a FALLIDO payout can be retried; skipping the rest here saves commands bound to fail
        # (the handler still decides, should the state change before the command runs).
        fallidos = queryset.filter(estado=EstadoPayout.FALLIDO.value)
        omitidos = queryset.exclude(estado=EstadoPayout.FALLIDO.value).count()
        if omitidos:
            cuales = ("Se omitió 1 payout que no está FALLIDO" if omitidos == 1
                      else f"Se omitieron {omitidos} payouts que no están FALLIDOS")
            self.message_user(request, f"{cuales}: solo un payout FALLIDO puede reintentarse.", messages.WARNING)
        if fallidos.exists():
            self.issue(request, fallidos, ReintentarPayout)

    @admin.action(description="Exportar a CSV")
    def exportar_csv(self, request, queryset):
        return exports.respuesta(exports.PAYOUTS, queryset)


@admin.register(CicloPago)
class CicloPagoAdmin(ReadOnlyAdmin):
    list_display = ["fecha_corte", "estado", "origen", "payouts", "transacciones", "totales_display", "fecha_creacion",
                    "calculado_en"]
    list_filter = ["estado", "origen"]
    date_hierarchy = "fecha_corte"
    fields = ["id", "fecha_corte", "estado", "origen", "payouts", "transacciones", "totales_display",
              "por_estado", "fecha_creacion", "calculado_en", "comandos"]
    readonly_fields = fields

    comandos = commands_link("Ver los comandos de este ciclo")

    @admin.display(description="totales")
    def totales_display(self, obj):
        # Stored as the API writes them (Monto.as_dict: valor a decimal string), shown as every amount here.
        return ", ".join(monto(Decimal(total["valor"]), total["moneda"]) for total in obj.totales) or None

    @admin.display(description="payouts por estado")
    def por_estado(self, obj):
        url = reverse("admin:pagos_payout_changelist") + f"?id_ciclo={obj.id}"
        estados = format_html_join(", ", '<a href="{}">{}: {}</a>', (
            (f"{url}&estado__exact={estado}", estado, total)
            for estado, total in sorted(queries.payouts_por_estado(obj.id).items())
        ))
        return format_html("{}<br>{}", estados or "-", enlace(url, "Ver los payouts de este ciclo"))


@admin.register(CampaniaLocal)
class CampaniaLocalAdmin(ReadOnlyAdmin):
    list_display = ["id", "id_marca", "estado", "presupuesto_display", "disponible_display", "agotado_publicado",
                    "fecha_inicio", "fecha_fin"]
    list_filter = ["estado", "moneda"]
    search_fields = ["id", "id_marca"]
    fields = ["id", "id_marca", "estado", "fecha_inicio", "fecha_fin", "presupuesto_display", "disponible_display",
              "agotado_publicado", "comisiones_json", "dias_retencion", "fecha_actualizacion"]
    readonly_fields = fields

    comisiones_json = json_display("comisiones", "comisiones")

    @admin.display(description="presupuesto", ordering="presupuesto")
    def presupuesto_display(self, obj):
        return monto(obj.presupuesto, obj.moneda)

    @admin.display(description="presupuesto disponible", ordering="presupuesto_disponible")
    def disponible_display(self, obj):
        return monto(obj.presupuesto_disponible, obj.moneda)


@admin.register(EnlaceLocal)
class EnlaceLocalAdmin(ReadOnlyAdmin):
    list_display = ["codigo", "id_campania", "id_socio", "activo"]
    list_filter = ["activo"]
    search_fields = ["codigo", "id_campania", "id_socio"]


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    """Clicks and impressions as the web processes wrote them, with why one is not billable and
    what billing made of it. Ordered by id (indexed): the table is the platform's largest."""

    list_display = ["id", "tipo", "codigo", "id_campania", "id_socio", "ocurrido_en", "facturable", "motivo",
                    "facturado_en", "comision", "rechazo"]
    list_filter = ["tipo", "facturable", "motivo", "rechazo"]
    search_fields = ["=id", "=codigo", "=id_campania", "=id_socio"]
    ordering = ["-id"]

    @admin.display(description="comisión")
    def comision(self, obj):
        if obj.id_transaccion is None:
            return "—"
        return enlace(reverse("admin:pagos_transaccion_change", args=[obj.id_transaccion]), obj.id_transaccion)


class RotarSecretoPostbackForm(forms.ModelForm):
    revocar_anterior = forms.BooleanField(
        required=False, label="revocar el anterior ya",
        help_text="Márquelo si el secreto anterior se filtró; si no, sigue valiendo 24 h para desplegar el nuevo.")

    class Meta:
        model = CredencialPostback
        fields = ["id_cliente"]

    def clean_id_cliente(self):
        id_cliente = self.cleaned_data["id_cliente"]
        if not ClienteLocal.objects.filter(id=id_cliente).exists():
            raise forms.ValidationError(f"No existe el cliente {id_cliente}.")
        return id_cliente


@admin.register(CredencialPostback)
class CredencialPostbackAdmin(admin.ModelAdmin):
    """The secrets are never shown again: the list shows the start of each one's SHA-256. "Add"
    rotates the client's secret and answers with the new one, once."""

    list_display = ["huella_corta", "id_cliente", "fecha_creacion", "vence_en", "vigente"]
    search_fields = ["id_cliente"]
    form = RotarSecretoPostbackForm
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="huella (SHA-256)")
    def huella_corta(self, obj):
        return f"{obj.huella[:12]}…"

    @admin.display(description="vigente", boolean=True)
    def vigente(self, obj):
        return obj.vence_en is None or obj.vence_en > timezone.now()

    def save_model(self, request, obj, form, change):
        rotacion = postbacks.rotar(obj.id_cliente, revocar_anterior=form.cleaned_data["revocar_anterior"],
                                   ahora=timezone.now())
        obj.pk, obj.fecha_creacion = rotacion.credencial.pk, rotacion.credencial.fecha_creacion  # for the admin's log
        request.rotacion_postback = rotacion

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(request, "admin/pagos/credencialpostback/secreto_creado.html", {
            **self.admin_site.each_context(request), "rotacion": request.rotacion_postback,
            "changelist_url": reverse("admin:pagos_credencialpostback_changelist"),
            "title": "Secreto de postback nuevo",
        }, headers={"Cache-Control": "no-store"})
