"""GET /pagos/transacciones.csv and /pagos/payouts.csv: the JSON lists' filters and scoping, every
row at once as a streamed CSV (pagos/exports.py) instead of pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from alpespartners.api import validated

from .. import exports, queries
from . import serializers
from .views import visible_payouts, visible_transacciones


class JsonErrors(BaseContentNegotiation):
    """The CSV is not a DRF renderer's: `Accept: text/csv` must not be a 406, and an error (400, 403)
    is rendered by the first renderer, JSON, in the one error shape."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


CSV = {(200, "text/csv"): OpenApiTypes.STR}


class TransaccionesCsvView(APIView):
    content_negotiation_class = JsonErrors

    @extend_schema(summary="Exportar transacciones a CSV", parameters=[serializers.TransaccionFiltros], responses=CSV,
                   description="Las mismas filas que GET /pagos/transacciones, todas, sin paginar: la comisión en "
                               "comision_valor y comision_moneda; pagable_desde en ISO 8601 con su desfase.")
    def get(self, request):
        filtros = validated(serializers.TransaccionFiltros, request.query_params)
        return exports.respuesta(exports.TRANSACCIONES, visible_transacciones(request, queries.transacciones(**filtros)))


class PayoutsCsvView(APIView):
    content_negotiation_class = JsonErrors

    @extend_schema(summary="Exportar payouts a CSV", parameters=[serializers.PayoutFiltros], responses=CSV,
                   description="Las mismas filas que GET /pagos/payouts, todas, sin paginar: el monto en "
                               "monto_total_valor y monto_total_moneda.")
    def get(self, request):
        filtros = validated(serializers.PayoutFiltros, request.query_params)
        return exports.respuesta(exports.PAYOUTS, visible_payouts(request, queries.payouts(**filtros)))
