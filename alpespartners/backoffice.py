"""The admin's home: the numbers an operator checks first, each linked to where to act on it.

Messaging's numbers are the platform's own; the contexts' (pagos: payouts, commissions, charts)
come from alpespartners.registry, registered in their AppConfig.ready()."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.cache import cache
from django.utils import timezone

from alpespartners import registry
from alpespartners.admin_display import monto
from alpespartners.messaging import queries as messaging

CHART_DAYS = 30
SLOW_NUMBERS_SECONDS = 60
CHART_HEIGHT = 120  # px of the tallest bar


class BackOfficeSite(admin.AdminSite):
    site_header = "Alpes Partners — back office"
    site_title = "Alpes Partners"
    index_title = "Estado de la plataforma"
    index_template = "admin/back_office_index.html"
    site_url = None  # no public site: "Ver el sitio" led to a 404

    def index(self, request, extra_context=None):
        return super().index(request, {**(extra_context or {}), "tablero": tablero()})


def tablero() -> dict:
    now = timezone.now()
    pending = messaging.outbox_pending()
    numbers = {
        "outbox_pendientes": pending["count"],
        "outbox_mas_antiguo": pending["oldest"],
        "outbox_retraso_segundos": round((now - pending["oldest"]).total_seconds()) if pending["oldest"] else 0,
        "relay_por_segundo": round(messaging.published_since(now - timedelta(minutes=1)) / 60, 1),
        "relay_ultima_hora": messaging.published_since(now - timedelta(hours=1)),
        "comandos_fallidos_24h": messaging.failed_since(now - timedelta(hours=24)),
        "comandos_fallidos": messaging.unfinished_and_failed()["FALLIDO"],
        "comandos_atascados": messaging.pending_before(now - timedelta(minutes=5)),
        "mensajes_muertos": sum(messaging.dead_letters_pending().values()),
    }
    for card in registry.dashboard_numbers():
        if card.slow:  # e.g. what reads every commission row (millions): at most once a minute, shared
            numbers.update(cache.get_or_set(f"backoffice:{card.name}:{timezone.localdate()}", card.compute, SLOW_NUMBERS_SECONDS))
        else:
            numbers.update(card.compute())
    return numbers


def con_monto(row: dict, estado: str, lista: str = "", filtro_estado: str = "estado__exact") -> dict:
    """A {<estado>, moneda, total, monto} row as the home's tables show it; `lista`, the admin list it
    counts, filtered by the row's state (the list's `filtro_estado` parameter) and currency: its `url`."""
    url = f"{lista}?{filtro_estado}={row[estado]}&moneda__exact={row['moneda']}" if lista else ""
    return {"estado": row[estado], "total": row["total"], "monto": monto(row["monto"] or Decimal(0), row["moneda"]),
            "url": url}


def dias_del_grafico() -> list:
    """The CHART_DAYS days a chart covers, oldest first, today last."""
    hoy = timezone.localdate()
    return [hoy - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]


def barras(titulo: str, valores: dict, etiqueta, *, html_id: str = "") -> dict:
    """A bar chart (drawn as SVG by admin/grafico_barras.html) of {day: value}; `etiqueta` formats a
    value; `html_id` names the SVG for whoever looks for it (tests, links)."""
    maximo = max([*valores.values(), 0]) or 1
    return {
        "titulo": titulo,
        "html_id": html_id,
        "total": etiqueta(sum(valores.values())),
        "barras": [_barra(indice, dia, valor, maximo, etiqueta) for indice, (dia, valor) in enumerate(valores.items())],
        "ancho": len(valores) * 12,
        "alto": CHART_HEIGHT,
    }


def _barra(indice: int, dia, valor, maximo, etiqueta) -> dict:
    # A day whose refunds exceed what it earned (a negative net commission) draws no bar; its title tells.
    alto = max(round(CHART_HEIGHT * valor / maximo), 0)
    return {"x": indice * 12, "y": CHART_HEIGHT - alto, "alto": alto, "dia": dia, "valor": etiqueta(valor)}
