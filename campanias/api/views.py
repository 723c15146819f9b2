"""One thin view per operation: validate, build the command, hand it to the command log."""

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from alpespartners.access.models import Rol
from alpespartners.access.scope import scope_of
from alpespartners.api import accept_command, validated
from alpespartners.messaging.api import CommandAcceptedOutput

from ..models import CampaniaView, EventoCampania, SocioCampaniaView
from .. import commands, queries
from . import serializers

CONTEXT = "campanias"
ACCEPTED = {202: CommandAcceptedOutput, 200: serializers.CampaniaOutput}


def campania_path(id_campania) -> str:
    return reverse("campania-detalle", args=[id_campania])


def present(id_campania) -> dict:
    return serializers.CampaniaOutput(queries.campania(id_campania)).data


def visible(request, queryset):
    """Staff see every campaign; a marca its client's; a socio those it is enrolled in."""
    return scope_of(request).restrict(queryset, marca="id_cliente", socio=queries.con_socio)


def existing(request, id_campania):
    if not visible(request, queries.campanias()).filter(id=id_campania).exists():
        raise NotFound(f"No existe la campaña {id_campania}.")
    return id_campania


def commanded(request, id_campania):
    """A campaign the user may command: staff any, a marca its own (404 for another's)."""
    scope_of(request).require(Rol.MARCA)
    return existing(request, id_campania)


def accept(request, command, id_campania, *, creates=False):
    return accept_command(request, CONTEXT, command, resource_id=id_campania, resource_path=campania_path,
                          present_resource=present, creates=creates)


class CampaniasView(ListAPIView):
    queryset = CampaniaView.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.CampaniaOutput

    def get_queryset(self):
        return visible(self.request, queries.campanias(**validated(serializers.CampaniaFiltros, self.request.query_params)))

    @extend_schema(summary="Listar campañas", parameters=[serializers.CampaniaFiltros])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Crear una campaña", request=serializers.CrearCampaniaInput,
                   responses={202: CommandAcceptedOutput, 201: serializers.CampaniaOutput},
                   description="La campaña nace PENDIENTE; se aprueba cuando pagos confirma el cobro de su presupuesto.")
    def post(self, request):
        scope_of(request).require(Rol.MARCA)
        data = validated(serializers.CrearCampaniaInput, request.data)
        scope_of(request).own_client(data["id_cliente"])
        id_campania = data.pop("id", None) or uuid.uuid4()
        return accept(request, commands.CrearCampania(id=id_campania, **data), id_campania, creates=True)


class CampaniaView(APIView):
    @extend_schema(summary="Detalle de una campaña", responses=serializers.CampaniaOutput)
    def get(self, request, id_campania):
        return Response(present(existing(self.request, id_campania)))

    @extend_schema(summary="Cambiar la url de destino o la ventana de atribución",
                   request=serializers.ActualizarCampaniaInput, responses=ACCEPTED)
    def patch(self, request, id_campania):
        data = validated(serializers.ActualizarCampaniaInput, request.data)
        return accept(request, commands.ActualizarCampania(id_campania=commanded(request, id_campania), **data),
                      id_campania)


class EnlacesView(ListAPIView):
    """Staff and the brand see every link of the campaign; a partner only its own."""

    queryset = SocioCampaniaView.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.EnlaceOutput
    pagination_class = None  # one per enrolled partner: the enrolment list is not paginated either

    def get_queryset(self):
        enlaces = queries.enlaces(existing(self.request, self.kwargs["id_campania"]))
        return scope_of(self.request).restrict(enlaces, marca="campania__id_cliente", socio="id_socio")

    @extend_schema(summary="Enlaces de seguimiento de una campaña")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EventosCampaniaView(ListAPIView):
    queryset = EventoCampania.objects.none()  # the model, for the schema; rows depend on who asks
    serializer_class = serializers.EventoOutput

    def get_queryset(self):
        return queries.eventos(existing(self.request, self.kwargs["id_campania"]))

    @extend_schema(summary="Historia de eventos de una campaña")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SociosView(APIView):
    @extend_schema(summary="Inscribir un socio", request=serializers.InscribirSocioInput, responses=ACCEPTED)
    def post(self, request, id_campania):
        data = validated(serializers.InscribirSocioInput, request.data)
        return accept(request, commands.InscribirSocio(id_campania=commanded(request, id_campania), **data), id_campania)


class SocioView(APIView):
    @extend_schema(summary="Retirar un socio", request=None, responses=ACCEPTED)
    def delete(self, request, id_campania, id_socio):
        return accept(request, commands.RetirarSocio(id_campania=commanded(request, id_campania), id_socio=id_socio), id_campania)


def lifecycle_view(command_class, summary: str):
    """POST /campanias/{id}/<acción> {motivo?}: the four lifecycle commands share one shape."""

    class LifecycleView(APIView):
        @extend_schema(summary=summary, request=serializers.MotivoCampaniaInput, responses=ACCEPTED)
        def post(self, request, id_campania):
            data = validated(serializers.MotivoCampaniaInput, request.data)
            return accept(request, command_class(id_campania=commanded(request, id_campania), **data), id_campania)

    LifecycleView.__name__ = LifecycleView.__qualname__ = f"{command_class.__name__}View"
    return LifecycleView


PausarCampaniaView = lifecycle_view(commands.PausarCampania, "Pausar una campaña APROBADA")
ReanudarCampaniaView = lifecycle_view(commands.ReanudarCampania, "Reanudar una campaña PAUSADA")
FinalizarCampaniaView = lifecycle_view(commands.FinalizarCampania, "Finalizar una campaña APROBADA o PAUSADA")
CancelarCampaniaView = lifecycle_view(commands.CancelarCampania, "Cancelar una campaña PENDIENTE")
