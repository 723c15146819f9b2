"""GET /t/{codigo} and GET /t/{codigo}/i.gif: the tracking link a partner shares. Plain Django views
(no DRF, no authentication, no throttle: a real burst of visitors must all land); the work is in
pagos/clicks.py."""

import logging

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from alpespartners.api import UNAVAILABLE_ERRORS, error_body

from .. import clicks, domain

logger = logging.getLogger(__name__)

# The smallest transparent 1×1 GIF (43 bytes).
PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def _solo_get(request) -> JsonResponse | None:
    if request.method == "GET":
        return None
    response = JsonResponse(error_body("metodo_no_permitido", f"Método {request.method} no permitido."), status=405)
    response["Allow"] = "GET"
    return response


@csrf_exempt  # no session, no form: a POST gets the one 405, not the CSRF page
@never_cache  # every visit must reach us: a cached redirect would be a click never counted
def click(request, codigo: str):
    if (refused := _solo_get(request)) is not None:
        return refused
    enlace = clicks.enlace(codigo)
    if enlace is None or not enlace.url_destino:
        return JsonResponse(error_body("no_encontrado", "Enlace no encontrado."), status=404)
    id_click = clicks.registrar(request, enlace, domain.TipoInteraccion.CLICK)
    return HttpResponseRedirect(domain.url_con_click(enlace.url_destino, str(id_click)))


@csrf_exempt
@never_cache
def impresion(request, codigo: str):
    """Always the GIF, even for an unknown or retired code or with the database away: a tracking
    pixel must never break the page it is on. Only an active link's impression is recorded."""
    if (refused := _solo_get(request)) is not None:
        return refused
    try:
        enlace = clicks.enlace(codigo)
    except UNAVAILABLE_ERRORS as error:
        logger.warning("impression not recorded, database unavailable: %s", error)
        enlace = None
    if enlace is not None:
        clicks.registrar(request, enlace, domain.TipoInteraccion.IMPRESION)
    return HttpResponse(PIXEL, content_type="image/gif")
