"""What pagos shows the operator: its numbers on the back office's home, its charts on the admin's
campaign page and its gauges in `/metrics`, registered with the platform (alpespartners.registry)
by PagosConfig.ready()."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from alpespartners import backoffice, registry
from alpespartners.admin_display import monto
from pagos import queries


def register() -> None:
    registry.register_dashboard_numbers("payouts", payouts)
    # cached as backoffice:comisiones:<date>
    registry.register_dashboard_numbers("comisiones", comisiones, slow=True)
    registry.register_campaign_panel("rendimiento", rendimiento_de_campania)
    registry.register_metric_collector("pagos", metrics)


# --- the back office's home (keys its template, admin/back_office_index.html, reads) -------


def payouts() -> dict:
    lista = reverse("admin:pagos_payout_changelist")
    filas = [backoffice.con_monto(row, "estado", lista) for row in queries.payouts_por_estado_y_moneda()]
    fallidos = sum(fila["total"] for fila in filas if fila["estado"] == "FALLIDO")
    return {"payouts": filas, "atencion_payouts_fallidos": fallidos,
            "atencion_payouts_fallidos_url": f"{lista}?estado__exact=FALLIDO"}


def comisiones() -> dict:
    """Commissions by state and the charts read every commission row (millions): registered slow,
    so computed at most once a minute, shared by every web process through the cache."""
    return {
        "comisiones": [backoffice.con_monto(row, "estado_actual", reverse("admin:pagos_transaccion_changelist"),
                                            filtro_estado="estado")
                       for row in queries.comisiones_por_estado_y_moneda()],
        "graficos": graficos(queries.conversiones_por_dia(timezone.now() - timedelta(days=backoffice.CHART_DAYS))),
    }


def graficos(filas: list[dict]) -> list[dict]:
    """Bar charts: conversions per day, and commissions per day in each currency, over the last
    CHART_DAYS days; missing days are zero."""
    dias = backoffice.dias_del_grafico()
    conversiones = {dia: 0 for dia in dias}
    comisiones: dict[str, dict] = {}
    for fila in filas:
        if fila["dia"] in conversiones:
            conversiones[fila["dia"]] += fila["conversiones"]
            comisiones.setdefault(fila["moneda"], {dia: Decimal(0) for dia in dias})[fila["dia"]] += fila["comisiones"]
    return [backoffice.barras("Conversiones por día", conversiones), *barras_de_comisiones(comisiones)]


def barras_de_comisiones(comisiones: dict[str, dict], html_id: str = "") -> list[dict]:
    """One chart per currency of {moneda: {día: valor}}, in currency order; `html_id` + "-MONEDA"
    names each one's SVG."""
    return [backoffice.barras(f"Comisiones por día ({moneda})", valores, lambda valor, moneda=moneda: monto(valor, moneda),
                              html_id=f"{html_id}-{moneda}" if html_id else "")
            for moneda, valores in sorted(comisiones.items())]


# --- the admin's campaign page -------------------------------------------------------------


def rendimiento_de_campania(id_campania) -> list[dict]:
    """Clicks, conversions and commissions (per currency) per day over the last CHART_DAYS days:
    the performance report's rows of the campaign (GET /reportes/rendimiento?id_campania=), summed
    over its partners; missing days are zero."""
    dias = backoffice.dias_del_grafico()
    clicks, conversiones = dict.fromkeys(dias, 0), dict.fromkeys(dias, 0)
    comisiones: dict[str, dict] = {}
    for fila in queries.rendimiento(dias[0], dias[-1], id_campania=id_campania):
        clicks[fila["dia"]] += fila["clicks"]
        conversiones[fila["dia"]] += fila["conversiones"]
        for comision in fila["comisiones"]:
            comisiones.setdefault(comision.moneda, dict.fromkeys(dias, Decimal(0)))[fila["dia"]] += comision.valor
    return [backoffice.barras("Clics por día", clicks, html_id="grafico-clicks"),
            backoffice.barras("Conversiones por día", conversiones, html_id="grafico-conversiones"),
            *barras_de_comisiones(comisiones, html_id="grafico-comisiones")]


# --- /metrics -------------------------------------------------------------------------------


def metrics():
    count = GaugeMetricFamily("alpespartners_payouts", "Payouts by state and currency.", labels=["estado", "moneda"])
    amount = GaugeMetricFamily("alpespartners_payouts_amount", "Sum of payouts by state and currency (in the currency's units).",
                               labels=["estado", "moneda"])
    for row in queries.payouts_por_estado_y_moneda():
        count.add_metric([row["estado"], row["moneda"]], row["total"])
        amount.add_metric([row["estado"], row["moneda"]], float(row["monto"]))  # a gauge is a float; the money stays Decimal in the database
    yield count
    yield amount
