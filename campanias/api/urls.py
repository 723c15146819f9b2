from django.urls import path

from . import views

urlpatterns = [
    path("campanias", views.CampaniasView.as_view(), name="campanias"),
    path("campanias/<uuid:id_campania>", views.CampaniaView.as_view(), name="campania-detalle"),
    path("campanias/<uuid:id_campania>/enlaces", views.EnlacesView.as_view(), name="campania-enlaces"),
    path("campanias/<uuid:id_campania>/eventos", views.EventosCampaniaView.as_view(), name="campania-eventos"),
    path("campanias/<uuid:id_campania>/socios", views.SociosView.as_view(), name="campania-socios"),
    path("campanias/<uuid:id_campania>/socios/<uuid:id_socio>", views.SocioView.as_view(), name="campania-socio"),
    path("campanias/<uuid:id_campania>/pausar", views.PausarCampaniaView.as_view(), name="campania-pausar"),
    path("campanias/<uuid:id_campania>/reanudar", views.ReanudarCampaniaView.as_view(), name="campania-reanudar"),
    path("campanias/<uuid:id_campania>/finalizar", views.FinalizarCampaniaView.as_view(), name="campania-finalizar"),
    path("campanias/<uuid:id_campania>/cancelar", views.CancelarCampaniaView.as_view(), name="campania-cancelar"),
]
