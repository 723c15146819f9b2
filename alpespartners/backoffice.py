"""The admin's home: the numbers an operator checks first, each linked to where to act on it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.cache import cache
from django.utils import timezone

from alpespartners.admin_display import monto
from alpespartners.messaging import queries as messaging
from pagos import queries as pagos

CHART_DAYS = 30
SLOW_NUMBERS_SECONDS = 60
CHART_HEIGHT = 120  # px of the tallest bar


class BackOfficeSite(admin.AdminSite):
    site_header = "Alpes Partners — back office"
    site_title = "Alpes Partners"
    index_title = "Estado de la plataforma"
    index_template = "admin/back_office_index.html"

    def index(self, request, extra_context=None):
        return super().index(request, {**(extra_context or {}), "tablero": tablero()})


def tablero() -> dict:
    now = timezone.now()
    pending = messaging.outbox_pending()
    return {
        "outbox_pendientes": pending["count"],
        "outbox_mas_antiguo": pending["oldest"],
        "outbox_retraso_segundos": round((now - pending["oldest"]).total_seconds()) if pending["oldest"] else 0,
        "relay_por_segundo": round(messaging.published_since(now - timedelta(minutes=1)) / 60, 1),
        "relay_ultima_hora": messaging.published_since(now - timedelta(hours=1)),
        "comandos_fallidos_24h": messaging.failed_since(now - timedelta(hours=24)),
        "comandos_fallidos": messaging.unfinished_and_failed()["FALLIDO"],
        "comandos_atascados": messaging.pending_before(now - timedelta(minutes=5)),
        "mensajes_muertos": sum(messaging.dead_letters_pending().values()),
        "payouts": [_con_monto(row, "estado") for row in pagos.payouts_por_estado_y_moneda()],
        **cache.get_or_set(f"backoffice:comisiones:{timezone.localdate()}", comisiones, SLOW_NUMBERS_SECONDS),
    }


def comisiones() -> dict:
    """Commissions by state and the charts read every commission row (millions): computed at most
    once a minute, shared by every web process through the cache."""
    return {
        "comisiones": [_con_monto(row, "estado_actual") for row in pagos.comisiones_por_estado_y_moneda()],
        "graficos": graficos(pagos.conversiones_por_dia(timezone.now() - timedelta(days=CHART_DAYS))),
    }


def _con_monto(row: dict, estado: str) -> dict:
    return {"estado": row[estado], "total": row["total"], "monto": monto(row["monto"] or Decimal(0), row["moneda"])}


def graficos(filas: list[dict]) -> list[dict]:
    """Bar charts (drawn as SVG by the template): conversions per day, and commissions per day in
    each currency, over the last CHART_DAYS days; missing days are zero."""
    hoy = timezone.localdate()
    dias = [hoy - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
    conversiones = {dia: 0 for dia in dias}
    comisiones: dict[str, dict] = {}
    for fila in filas:
        if fila["dia"] in conversiones:
            conversiones[fila["dia"]] += fila["conversiones"]
            comisiones.setdefault(fila["moneda"], {dia: Decimal(0) for dia in dias})[fila["dia"]] += fila["comisiones"]
    series = [("Conversiones por día", conversiones, str)]
    series += [(f"Comisiones por día ({moneda})", valores, lambda valor, moneda=moneda: monto(valor, moneda))
               for moneda, valores in sorted(comisiones.items())]
    return [_barras(titulo, valores, etiqueta) for titulo, valores, etiqueta in series]


def _barra(indice: int, dia, valor, maximo, etiqueta) -> dict:
    alto = round(CHART_HEIGHT * valor / maximo)
    return {"x": indice * 12, "y": CHART_HEIGHT - alto, "alto": alto, "dia": dia, "valor": etiqueta(valor)}


def _barras(titulo: str, valores: dict, etiqueta) -> dict:
    maximo = max(valores.values()) or 1
    return {
        "titulo": titulo,
        "total": etiqueta(sum(valores.values())),
        "barras": [_barra(indice, dia, valor, maximo, etiqueta) for indice, (dia, valor) in enumerate(valores.items())],
        "ancho": len(valores) * 12,
        "alto": CHART_HEIGHT,
    }
