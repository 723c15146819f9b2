"""alpespartners.urls plus the bare redirect of bench/bare_wsgi.py."""

import uuid

from django.http import HttpResponseRedirect
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from alpespartners.urls import handler400, handler404, handler500, urlpatterns as project  # noqa: F401
from pagos import domain

LANDING = "https://tienda.co/zapatos?utm_source=alpes"


@csrf_exempt
@never_cache
def bare(request, codigo: str):
    return HttpResponseRedirect(domain.url_con_click(LANDING, str(uuid.uuid4())))


urlpatterns = [path("t-bare/<str:codigo>", bare), *project]
