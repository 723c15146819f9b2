from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from alpespartners import health
from alpespartners.metrics import metrics_view
from alpespartners.messaging.api import CommandDetailView

api_v1 = [
    path("comandos/<uuid:command_id>", CommandDetailView.as_view(), name="comando-detalle"),
    path("", include("cliente.api.urls")),
    path("", include("campanias.api.urls")),
    path("", include("pagos.api.urls")),
    path("", include("webhooks.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("t/", include("pagos.api.tracking_urls")),  # tracking links: short, public, outside the API
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
]

handler400 = "alpespartners.api.bad_request_view"
handler404 = "alpespartners.api.not_found_view"
handler500 = "alpespartners.api.server_error_view"
