from django.urls import path

from . import views

urlpatterns = [
    path("webhooks", views.EndpointsView.as_view(), name="webhooks"),
    path("webhooks/<uuid:id_endpoint>", views.EndpointDetalleView.as_view(), name="webhook-detalle"),
    path("webhooks/<uuid:id_endpoint>/entregas", views.EntregasView.as_view(), name="webhook-entregas"),
    path("webhooks/<uuid:id_endpoint>/entregas/<uuid:id_entrega>/reenviar", views.ReenviarEntregaView.as_view(),
         name="webhook-entrega-reenviar"),
    path("webhooks/<uuid:id_endpoint>/reenviar", views.ReenviarDesdeView.as_view(), name="webhook-reenviar"),
]
