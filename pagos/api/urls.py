from django.urls import path

from . import views

urlpatterns = [
    path("pagos/cobros", views.CobrosView.as_view(), name="pago-cobros"),
    path("pagos/cobros/<uuid:id_pago>", views.CobroDetalleView.as_view(), name="pago-cobro-detalle"),
    path("pagos/cobros/<uuid:id_pago>/revertir", views.RevertirCobroView.as_view(), name="pago-cobro-revertir"),
]
