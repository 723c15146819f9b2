from django.urls import path

from . import views

urlpatterns = [
    path("clientes", views.ClientesView.as_view(), name="clientes"),
    path("clientes/<uuid:id_cliente>", views.ClienteView.as_view(), name="cliente-detalle"),
    path("clientes/<uuid:id_cliente>/medios-pago", views.MediosPagoView.as_view(), name="cliente-medios-pago"),
    path("clientes/<uuid:id_cliente>/suspender", views.SuspenderClienteView.as_view(), name="cliente-suspender"),
    path("clientes/<uuid:id_cliente>/reactivar", views.ReactivarClienteView.as_view(), name="cliente-reactivar"),
]
