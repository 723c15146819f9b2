from django.urls import path

from . import exports, postbacks, views

urlpatterns = [
    path("pagos/cobros", views.CobrosView.as_view(), name="pago-cobros"),
    path("pagos/cobros/<uuid:id_pago>", views.CobroDetalleView.as_view(), name="pago-cobro-detalle"),
    path("pagos/cobros/<uuid:id_pago>/revertir", views.RevertirCobroView.as_view(), name="pago-cobro-revertir"),
    path("pagos/conversiones", views.ConversionesView.as_view(), name="pago-conversiones"),
    path("pagos/conversiones/lote", views.LoteConversionesView.as_view(), name="pago-conversiones-lote"),
    path("pagos/conversiones/revertir", views.RevertirConversionView.as_view(), name="pago-conversiones-revertir"),
    path("pagos/postbacks", postbacks.PostbacksView.as_view(), name="pago-postbacks"),
    path("clientes/<uuid:id_cliente>/secreto-postback", postbacks.SecretoPostbackView.as_view(),
         name="cliente-secreto-postback"),
    path("pagos/transacciones", views.TransaccionesView.as_view(), name="pago-transacciones"),
    path("pagos/transacciones.csv", exports.TransaccionesCsvView.as_view(), name="pago-transacciones-csv"),
    path("pagos/transacciones/<uuid:id_transaccion>", views.TransaccionDetalleView.as_view(),
         name="pago-transaccion-detalle"),
    path("pagos/ciclos", views.CiclosView.as_view(), name="pago-ciclos"),
    path("pagos/ciclos/<uuid:id_ciclo>", views.CicloDetalleView.as_view(), name="pago-ciclo-detalle"),
    path("pagos/payouts", views.PayoutsView.as_view(), name="pago-payouts"),
    path("pagos/payouts.csv", exports.PayoutsCsvView.as_view(), name="pago-payouts-csv"),
    path("pagos/payouts/<uuid:id_payout>", views.PayoutDetalleView.as_view(), name="pago-payout-detalle"),
    path("pagos/payouts/<uuid:id_payout>/reintentar", views.ReintentarPayoutView.as_view(),
         name="pago-payout-reintentar"),
    path("reportes/rendimiento", views.RendimientoView.as_view(), name="reporte-rendimiento"),
]
