"""Back office for webhooks: endpoints (the secret shown once, at creation; enable again after the
dispatcher disabled one; replay from a time), and every delivery with its attempts (replay them)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from alpespartners.admin_display import detalles_tecnicos, enlace_a_cliente

from . import domain, endpoints, queries
from .models import Endpoint, Entrega, Intento


class EndpointForm(forms.ModelForm):
    eventos = forms.MultipleChoiceField(choices=[(tipo, tipo) for tipo in sorted(domain.TIPOS)],
                                        widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Endpoint
        fields = ["id_cliente", "url", "eventos", "activo"]

    def clean_url(self):
        try:
            return endpoints.validar_url(self.cleaned_data["url"])
        except domain.WebhookInvalido as invalido:
            raise ValidationError(str(invalido)) from None


class DeshabilitadoFilter(admin.SimpleListFilter):
    title = "deshabilitado por fallos"
    parameter_name = "deshabilitado"

    def lookups(self, request, model_admin):
        return [("si", "sí"), ("no", "no")]

    def queryset(self, request, queryset):
        if self.value() == "si":
            return queryset.filter(activo=False, deshabilitado_en__isnull=False)
        if self.value() == "no":
            return queryset.filter(deshabilitado_en__isnull=True)
        return queryset


class ReenvioForm(forms.Form):
    desde = forms.DateTimeField(label="Reenviar las entregas creadas desde",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "cliente", "activo", "fallos_seguidos", "deshabilitado_en", "fecha_creacion"]
    list_filter = ["activo", DeshabilitadoFilter]
    search_fields = ["url", "id_cliente"]
    readonly_fields = ["fallos_seguidos", "deshabilitado_en", "motivo_deshabilitado", "fecha_creacion"]
    actions = ["activar"]

    def get_queryset(self, request):
        return queries.con_nombre_de_cliente(super().get_queryset(request))

    @admin.display(description="cliente", ordering="nombre_cliente")
    def cliente(self, obj):
        return enlace_a_cliente(obj.id_cliente, obj.nombre_cliente)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "cliente", "id_cliente", "entregas"] if obj else self.readonly_fields

    @admin.display(description="entregas")
    def entregas(self, obj):
        return format_html('<a href="{}?endpoint__id__exact={}">Ver sus entregas e intentos</a> · '
                           '<a href="{}">Reenviar desde un instante…</a>', reverse("admin:webhooks_entrega_changelist"),
                           obj.pk, reverse("admin:webhooks_endpoint_reenviar", args=[obj.pk]))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            endpoints.actualizar(Endpoint.objects.get(pk=obj.pk), url=data["url"], eventos=data["eventos"],
                                 activo=data["activo"])
            return
        registro = endpoints.registrar(data["id_cliente"], data["url"], data["eventos"], data["activo"])
        obj.pk = registro.endpoint.pk
        request.registro_webhook = registro

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(request, "admin/webhooks/endpoint/secreto_creado.html", {
            **self.admin_site.each_context(request), "registro": request.registro_webhook,
            "changelist_url": reverse("admin:webhooks_endpoint_changelist"), "title": "Endpoint de webhooks nuevo",
        }, headers={"Cache-Control": "no-store"})

    @admin.action(description="Activar de nuevo (lo que esperaba sale ya)")
    def activar(self, request, queryset):
        for endpoint in queryset.filter(activo=False):
            endpoints.actualizar(endpoint, activo=True)
        self.message_user(request, "Endpoints activados.", messages.SUCCESS)

    def get_urls(self):
        return [path("<uuid:id_endpoint>/reenviar/", self.admin_site.admin_view(self.reenviar_desde),
                     name="webhooks_endpoint_reenviar"), *super().get_urls()]

    def reenviar_desde(self, request, id_endpoint):
        endpoint = get_object_or_404(Endpoint, pk=id_endpoint)
        form = ReenvioForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                cuantas = endpoints.reenviar(endpoint, ahora=timezone.now(), desde=form.cleaned_data["desde"])
            except endpoints.ReenvioRechazado as rechazo:
                form.add_error("desde", str(rechazo))
            else:
                self.message_user(request, f"{cuantas} entregas se reenviarán.", messages.SUCCESS)
                return redirect(reverse("admin:webhooks_entrega_changelist") + f"?endpoint__id__exact={endpoint.pk}")
        return TemplateResponse(request, "admin/webhooks/endpoint/reenviar.html", {
            **self.admin_site.each_context(request), "endpoint": endpoint, "form": form,
            "limite": endpoints.limite_de_reenvio(timezone.now()), "title": "Reenviar entregas",
            "opts": self.model._meta,
        })


class IntentoInline(admin.TabularInline):
    model = Intento
    fields = ["numero", "fecha", "status", "latencia_ms", "respuesta", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Entrega)
class EntregaAdmin(admin.ModelAdmin):
    list_display = ["tipo", "event_id", "endpoint", "estado", "intentos", "fecha_creacion", "entregada_en"]
    list_filter = ["estado", "tipo", "endpoint"]
    search_fields = ["event_id"]
    date_hierarchy = "fecha_creacion"
    fieldsets = [
        (None, {"fields": ["endpoint", "event_id", "tipo", "estado", "intentos", "plazo_hasta", "fecha_creacion",
                           "entregada_en", "cuerpo"]}),
        detalles_tecnicos(["proximo_intento_en"]),  # the dispatcher's lease
    ]
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = [IntentoInline]
    actions = ["reenviar"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Reenviar (el mismo evento, el mismo id)")
    def reenviar(self, request, queryset):
        ahora, total = timezone.now(), 0
        for endpoint in Endpoint.objects.filter(entregas__in=queryset).distinct():
            try:
                total += endpoints.reenviar(endpoint, ahora=ahora,
                                            ids=list(queryset.filter(endpoint=endpoint).values_list("id", flat=True)))
            except endpoints.ReenvioRechazado as rechazo:
                self.message_user(request, f"{endpoint}: {rechazo}", messages.ERROR)
        self.message_user(request, f"{total} entregas se reenviarán.", messages.SUCCESS)
