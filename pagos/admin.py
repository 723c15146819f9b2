"""Back-office view of pagos: campaign charges, commissions, payouts and their cycles.

Every row here is written by commands, handlers and set-based cycles; the admin is for looking.
Its one command, reintentar, issues ReintentarPayout through the command log like the API does; a
brand's postback secret is rotated here as through POST /clientes/{id}/secreto-postback; commissions
and payouts are exported to CSV as GET /pagos/transacciones.csv and /pagos/payouts.csv write them."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import OuterRef, Subquery
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from alpespartners.admin_display import (ReadOnlyAdmin, detalles_tecnicos, enlace_a_campania, enlace_a_cliente,
                                         instante, json_display, monto)
from alpespartners.messaging import queries as messaging
from alpespartners.messaging.admin_actions import CommandActionsAdmin, commands_link

from . import commands, exports, postbacks, queries
from .commands import ReintentarPayout
from .domain import EstadoPayout, EstadoTransaccion, ResultadoIntento
from .models import (CampaniaLocal, CicloPago, ClienteLocal, Click, CobroView, CredencialPostback, EnlaceLocal, Payout,
                     Transaccion)

TRANSACCIONES_EN_DETALLE = 200  # a payout may hold thousands; the changelist pages through the rest


def enlace(url: str, texto) -> str:
    return format_html('<a href="{}">{}</a>', url, texto)


def nombre_enlazado(descripcion: str, campo: str):
    """A column of the name of the client or campaign whose id is in `campo` ("id_campania" names a
    campaign, any other a client), linked to its page. The name comes from pagos' own copies,
    annotated by ConNombres."""
    enlazar = enlace_a_campania if campo == "id_campania" else enlace_a_cliente
    nombre = queries.anotacion_de_nombre(campo)

    @admin.display(description=descripcion, ordering=nombre)
    def display(self, obj):
        return enlazar(getattr(obj, campo), getattr(obj, nombre))

    display.campo_con_nombre = campo
    return display


class ConNombres:
    """Rows carrying the names the admin's `nombre_enlazado` columns show: one subquery per field, run
    for the page's rows only, never a join with another context's tables."""

    def get_queryset(self, request):
        return self.con_nombres(super().get_queryset(request))

    def con_nombres(self, queryset):
        return queries.con_nombres(queryset, *{columna.campo_con_nombre for columna in vars(type(self)).values()
                                               if hasattr(columna, "campo_con_nombre")})


@admin.register(CobroView)
class CobroViewAdmin(ConNombres, ReadOnlyAdmin):
    list_display = ["campania", "marca", "monto_display", "estado", "fecha_creacion", "fecha_actualizacion"]
    list_display_links = ["monto_display"]  # the names link to their own pages
    list_filter = ["estado", "moneda"]
    search_fields = ["id_campania", "id_cliente"]
    date_hierarchy = "fecha_creacion"
    fieldsets = [
        (None, {"fields": ["campania", "marca", "monto_display", "estado", "motivo", "confirmacion", "fecha_creacion",
                           "fecha_actualizacion", "comandos"]}),
        detalles_tecnicos(["id", "id_campania", "id_cliente"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    campania = nombre_enlazado("campaña", "id_campania")
    marca = nombre_enlazado("marca", "id_cliente")

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
class TransaccionAdmin(ConNombres, ReadOnlyAdmin):
    list_display = ["id_externo", "tipo", "socio", "campania", "comision_display", "estado_display",
                    "pagable_desde", "payout"]
    list_filter = [EstadoActualFilter, "tipo", "moneda"]
    search_fields = ["id_externo", "id_socio", "id_campania", "id_payout"]
    date_hierarchy = "pagable_desde"
    actions = ["exportar_csv"]
    fieldsets = [
        (None, {"fields": ["id_externo", "tipo", "socio", "campania", "conversion_display", "comision_display",
                           "estado_display", "ocurrida_en", "pagable_desde", "payout", "id_transaccion_original",
                           "motivo_reversion", "fecha_creacion", "comandos"]}),
        detalles_tecnicos(["id", "id_socio", "id_campania"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    comandos = commands_link("Ver los comandos de esta transacción")
    socio = nombre_enlazado("socio", "id_socio")
    campania = nombre_enlazado("campaña", "id_campania")

    def get_queryset(self, request):
        # The API's view of the rows: the state is read against the clock (estado_actual); its payout
        # named by its cut-off date.
        return self.con_nombres(queries.transacciones()).annotate(corte_del_payout=Subquery(
            Payout.objects.filter(id=OuterRef("id_payout")).values("fecha_corte")[:1]))

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
        return enlace(reverse("admin:pagos_payout_change", args=[obj.id_payout]),
                      f"del corte {formats.localize(obj.corte_del_payout)}")

    @admin.action(description="Exportar a CSV")
    def exportar_csv(self, request, queryset):
        return exports.respuesta(exports.TRANSACCIONES, queryset)


def linea_de_tiempo(payout: Payout) -> list[tuple]:
    """(when, what, detail) of a payout, oldest first: its calculation, each sending with the gateway's
    answer (pagos' own IntentoPayout rows), and each retry asked for (the command log)."""
    transacciones = "1 transacción" if payout.transacciones == 1 else f"{payout.transacciones} transacciones"
    pasos = [(payout.fecha_creacion, "Calculado", format_html(
        "Ciclo del {}: {}, {}", formats.localize(payout.fecha_corte), transacciones,
        monto(payout.monto_total, payout.moneda)))]
    for intento in queries.intentos_de_payout(payout.id):
        if intento.enviado_en is not None:
            pasos.append((intento.enviado_en, f"Intento {intento.intento}: enviado a la pasarela",
                          f"al medio de pago {intento.mascara}" if intento.mascara else "—"))
        respuesta = (f"confirmación {intento.confirmacion}" if intento.resultado == ResultadoIntento.EXITOSO
                     else f"{intento.codigo}: {intento.mensaje}")
        pasos.append((intento.respondido_en, f"Intento {intento.intento}: {RESULTADOS[intento.resultado]}", respuesta))
    for comando in messaging.commands_about(commands.ReintentarPayout.__name__, payout.id):
        quien = comando.issued_by or comando.source
        resultado = (comando.error or {}).get("message") or comando.status
        pasos.append((comando.created_at, "Reintento pedido", format_html("por {} ({}): {}", quien, comando.source,
                                                                          resultado)))
    return sorted(pasos, key=lambda paso: paso[0])


RESULTADOS = {
    ResultadoIntento.EXITOSO: "pagado",
    ResultadoIntento.RECHAZADO: "rechazado por la pasarela",
    ResultadoIntento.SIN_RESPUESTA: "la pasarela no respondió",
    ResultadoIntento.NO_ENVIADO: "no se envió",
}


@admin.register(Payout)
class PayoutAdmin(ConNombres, CommandActionsAdmin):
    """A payout's page tells its story (the timeline: calculated, each sending and the gateway's answer,
    each retry asked for) and retries it from the page itself when it failed."""

    command_context, command_id_field = "pagos", "id_payout"
    change_form_template = "admin/pagos/payout/change_form.html"
    list_display = ["socio", "fecha_corte", "monto_display", "estado", "intentos", "transacciones", "confirmacion"]
    list_display_links = ["monto_display"]  # the partner's name links to its own page
    list_filter = ["estado", "moneda", "fecha_corte"]
    search_fields = ["id_socio", "id", "id_ciclo"]
    actions = ["reintentar", "exportar_csv"]
    fieldsets = [
        (None, {"fields": ["socio", "ciclo", "monto_display", "estado", "motivo_fallo", "confirmacion", "intentos",
                           "transacciones", "fecha_creacion", "fecha_actualizacion"]}),
        ("Línea de tiempo", {"fields": ["linea_de_tiempo", "comandos"]}),
        ("Sus transacciones", {"fields": ["detalle_transacciones"]}),
        detalles_tecnicos(["id", "id_socio", "id_ciclo", "pagable_antes_de", "hasta_secuencia", "version"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    socio = nombre_enlazado("socio", "id_socio")

    def get_urls(self):
        return [path("<uuid:id_payout>/reintentar/", self.admin_site.admin_view(self.reintentar_uno),
                     name="pagos_payout_reintentar"), *super().get_urls()]

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["puede_reintentarse"] = (obj is not None and obj.estado == EstadoPayout.FALLIDO.value
                                         and self.has_emitir_comandos_permission(request))
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def reintentar_uno(self, request, id_payout):
        """The page's "Reintentar" button: the same ReintentarPayout as the list's action."""
        if request.method != "POST" or not self.has_emitir_comandos_permission(request):
            raise PermissionDenied
        self.reintentar(request, Payout.objects.filter(pk=id_payout))
        return redirect(reverse("admin:pagos_payout_change", args=[id_payout]))

    @admin.display(description="comandos")
    def comandos(self, obj):
        # The commands about it: its cycle's calculation and its retries. By type first, whose index
        # finds these few among every command (resource_id has none).
        url = (reverse("admin:messaging_commandlog_changelist")
               + f"?type__in={commands.EjecutarCiclo.__name__},{commands.ReintentarPayout.__name__}"
               + f"&resource_id__in={obj.id},{obj.id_ciclo}")
        return enlace(url, "Ver el cálculo de su ciclo y sus reintentos en el registro de comandos")

    @admin.display(description="qué le pasó")
    def linea_de_tiempo(self, obj):
        filas = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (instante(cuando), que, detalle) for cuando, que, detalle in linea_de_tiempo(obj)))
        return format_html('<table class="linea-de-tiempo"><tr><th>cuándo</th><th>qué</th><th>detalle</th></tr>'
                           '{}</table>', filas)

    @admin.display(description="monto total", ordering="monto_total")
    def monto_display(self, obj):
        return monto(obj.monto_total, obj.moneda)

    @admin.display(description="ciclo")
    def ciclo(self, obj):
        return enlace(reverse("admin:pagos_ciclopago_change", args=[obj.id_ciclo]), formats.localize(obj.fecha_corte))

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
class CampaniaLocalAdmin(ConNombres, ReadOnlyAdmin):
    interno = True
    list_display = ["nombre", "marca", "estado", "presupuesto_display", "disponible_display", "agotado_publicado",
                    "fecha_inicio", "fecha_fin"]
    list_filter = ["estado", "moneda"]
    search_fields = ["nombre", "id", "id_marca"]
    fieldsets = [
        (None, {"fields": ["nombre", "marca", "estado", "fecha_inicio", "fecha_fin", "presupuesto_display",
                           "disponible_display", "comisiones_json", "dias_retencion", "fecha_actualizacion"]}),
        detalles_tecnicos(["id", "id_marca", "agotado_publicado"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    marca = nombre_enlazado("marca", "id_marca")

    comisiones_json = json_display("comisiones", "comisiones")

    @admin.display(description="presupuesto", ordering="presupuesto")
    def presupuesto_display(self, obj):
        return monto(obj.presupuesto, obj.moneda)

    @admin.display(description="presupuesto disponible", ordering="presupuesto_disponible")
    def disponible_display(self, obj):
        return monto(obj.presupuesto_disponible, obj.moneda)


@admin.register(EnlaceLocal)
class EnlaceLocalAdmin(ConNombres, ReadOnlyAdmin):
    interno = True
    list_display = ["codigo", "campania", "socio", "activo"]
    list_filter = ["activo"]
    search_fields = ["codigo", "id_campania", "id_socio"]
    campania = nombre_enlazado("campaña", "id_campania")
    socio = nombre_enlazado("socio", "id_socio")


@admin.register(Click)
class ClickAdmin(ConNombres, ReadOnlyAdmin):
    """Clicks and impressions as the web processes wrote them, with why one is not billable and
    what billing made of it. Ordered by id (indexed): the table is the platform's largest."""

    list_display = ["id", "tipo", "codigo", "campania", "socio", "ocurrido_en", "facturable", "motivo",
                    "facturado_en", "comision", "rechazo"]
    list_filter = ["tipo", "facturable", "motivo", "rechazo"]
    search_fields = ["=id", "=codigo", "=id_campania", "=id_socio"]
    ordering = ["-id"]

    # Ordered by the primary key, then limited: the names' subqueries run for the page's rows only.
    campania = nombre_enlazado("campaña", "id_campania")
    socio = nombre_enlazado("socio", "id_socio")

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
class CredencialPostbackAdmin(ConNombres, admin.ModelAdmin):
    """The secrets are never shown again: the list shows the start of each one's SHA-256. "Add"
    rotates the client's secret and answers with the new one, once."""

    list_display = ["huella_corta", "marca", "fecha_creacion", "vence_en", "vigente"]
    search_fields = ["id_cliente"]
    form = RotarSecretoPostbackForm
    show_full_result_count = False

    marca = nombre_enlazado("marca", "id_cliente")

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
