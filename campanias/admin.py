"""Back-office view of campaigns (the read model, with each campaign's stored history) and of
the approval sagas. Pausing, resuming and finishing issue commands through the command log.

Brands and partners are shown by the name campanias' own copy of cliente (ClienteLocal) holds, linked
to the client's page in cliente's admin; by their id until that copy arrives."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from alpespartners import registry
from alpespartners.admin_display import (ReadOnlyAdmin, detalles_tecnicos, enlace_a_campania, enlace_a_cliente,
                                         instante, json_display, monto, tabla)
from alpespartners.messaging.admin_actions import CommandActionsAdmin, commands_link

from . import domain, queries
from .commands import FinalizarCampania, PausarCampania, ReanudarCampania
from .models import CampaniaView, ClienteLocal, SagaAprobacionModel


@admin.register(CampaniaView)
class CampaniaViewAdmin(CommandActionsAdmin):
    command_context, command_id_field = "campanias", "id_campania"
    list_display = ["nombre", "marca", "estado", "presupuesto_display", "fecha_inicio", "fecha_fin"]
    list_filter = ["estado", "moneda"]
    search_fields = ["nombre", "nombre_marca", "id", "id_cliente"]
    date_hierarchy = "fecha_creacion"
    actions = ["pausar", "reanudar", "finalizar"]
    fieldsets = [
        (None, {"fields": [("nombre", "id"), ("marca", "id_cliente"), "estado", "motivo", "presupuesto_display",
                           "disponible_display", "fecha_inicio", "fecha_fin", "comisiones_json", "dias_retencion",
                           "socios_display", "fecha_creacion", "fecha_actualizacion", "saga", "comandos", "historia"]}),
        detalles_tecnicos(["version"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    comisiones_json = json_display("comisiones", "comisiones")
    comandos = commands_link("Ver los comandos de esta campaña")

    def get_queryset(self, request):
        # Every row's brand name in the list's one query, not one query per row.
        nombre = ClienteLocal.objects.filter(id=OuterRef("id_cliente")).values("nombre")[:1]
        return super().get_queryset(request).annotate(nombre_marca=Subquery(nombre))

    @admin.display(description="marca", ordering="nombre_marca")
    def marca(self, obj):
        return enlace_a_cliente(obj.id_cliente, obj.nombre_marca)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            # Clicks, conversions and commissions are pagos' figures: pagos registers the charts
            # (campanias may not import it) and admin/campanias/campaniaview/change_form.html draws them.
            context["graficos"] = registry.campaign_charts(obj.id)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="presupuesto", ordering="presupuesto")
    def presupuesto_display(self, obj):
        return monto(obj.presupuesto, obj.moneda)

    @admin.display(description="presupuesto disponible")
    def disponible_display(self, obj):
        return monto(obj.presupuesto_disponible, obj.moneda)

    @admin.display(description="socios")
    def socios_display(self, obj):
        socios = obj.socios.all()
        if not socios:
            return "-"
        nombres = dict(ClienteLocal.objects.filter(id__in=[socio.id_socio for socio in socios]).values_list("id", "nombre"))
        return format_html_join(mark_safe("<br>"), "{}{} (inscrito {}){}", (
            (enlace_a_cliente(socio.id_socio, nombres.get(socio.id_socio)),
             format_html(" <small>{}</small>", socio.id_socio) if socio.id_socio in nombres else "",  # the id, once
             formats.localize(timezone.localdate(socio.inscrito_en)), " — SUSPENDIDO" if socio.suspendido else "")
            for socio in socios
        ))

    @admin.display(description="saga de aprobación")
    def saga(self, obj):
        saga = queries.saga(obj.id)
        if saga is None:
            return "-"
        url = reverse("admin:campanias_sagaaprobacionmodel_change", args=[saga.pk])
        return format_html('<a href="{}">{}</a>', url, saga.estado)

    @admin.display(description="historia (event store)")
    def historia(self, obj):
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (evento.version, f"{evento.type} v{evento.schema_version}", instante(evento.occurred_at),
             tabla(domain.upcast(evento.type, evento.schema_version, evento.data)))
            for evento in queries.eventos(obj.id)
        ))
        return format_html("<table><tr><th>#</th><th>evento</th><th>ocurrió</th><th>datos</th></tr>{}</table>", rows)

    @admin.action(description="Pausar las campañas seleccionadas", permissions=["emitir_comandos"])
    def pausar(self, request, queryset):
        self.issue(request, queryset, PausarCampania)

    @admin.action(description="Reanudar las campañas seleccionadas", permissions=["emitir_comandos"])
    def reanudar(self, request, queryset):
        self.issue(request, queryset, ReanudarCampania)

    @admin.action(description="Finalizar las campañas seleccionadas", permissions=["emitir_comandos"])
    def finalizar(self, request, queryset):
        self.issue(request, queryset, FinalizarCampania)


@admin.register(SagaAprobacionModel)
class SagaAprobacionAdmin(ReadOnlyAdmin):
    list_display = ["nombre_campania_display", "estado", "vence_en", "fecha_creacion", "fecha_actualizacion"]
    list_filter = ["estado"]
    search_fields = ["nombre_campania", "id_campania", "id_pago"]
    date_hierarchy = "fecha_creacion"
    fieldsets = [
        (None, {"fields": [("campania", "id_campania"), "estado", "id_pago", "plazo_segundos", "vence_en",
                           "pasos_display", "fecha_creacion", "fecha_actualizacion"]}),
        detalles_tecnicos(["version"]),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    def get_queryset(self, request):
        # Every row's campaign name in the list's one query, not one query per row.
        nombre = CampaniaView.objects.filter(id=OuterRef("id_campania")).values("nombre")[:1]
        return super().get_queryset(request).annotate(nombre_campania=Subquery(nombre))

    @admin.display(description="campaña", ordering="nombre_campania")
    def nombre_campania_display(self, obj):  # in the list, the link to the saga's page
        return obj.nombre_campania or obj.id_campania

    @admin.display(description="campaña")
    def campania(self, obj):
        return enlace_a_campania(obj.id_campania, obj.nombre_campania)

    @admin.display(description="pasos")
    def pasos_display(self, obj):
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (instante(paso["en"]), paso["paso"], paso["detalle"], paso["estado"]) for paso in obj.pasos
        ))
        return format_html("<table><tr><th>cuándo</th><th>paso</th><th>detalle</th><th>estado</th></tr>{}</table>", rows)
