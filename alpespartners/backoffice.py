"""The admin's home: the numbers an operator checks first, each linked to where to act on it.

Messaging's numbers are the platform's own; the contexts' (pagos: payouts, commissions, charts)
come from alpespartners.registry, registered in their AppConfig.ready()."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import number_format

from alpespartners import registry
from alpespartners.admin_display import monto
from alpespartners.messaging import queries as messaging

CHART_DAYS = 30
SLOW_NUMBERS_SECONDS = 60
# A chart's drawing, in its SVG viewBox's units: about the pixels of an admin module on a 1280 px
# screen, so its text reads at its font's size there; it scales to its box's width elsewhere.
CHART_WIDTH, CHART_HEIGHT = 840, 160
CHART_TOP, CHART_BOTTOM, CHART_RIGHT = 18, 24, 18  # room for the value over the tallest bar, the dates, the last date
CHART_MIN_LEFT = 40  # room for the scale's labels: more when they are longer (amounts)
CHART_AXIS_FONT, CHART_VALUE_FONT = 11, 10


class BackOfficeSite(admin.AdminSite):
    """The admin site of the back office.

    Its app list (the home's, the sidebar's, an app's page) keeps each app's business tables under the
    app's name, and moves the tables only the platform writes and reads (local copies of other contexts,
    the inbox, …) to a group of their own, "Interno · <app>", listed after every business app. A model
    admin declares its table internal with the class attribute `interno = True`."""

    site_header = "Alpes Partners — back office"
    site_title = "Alpes Partners"
    index_title = "Estado de la plataforma"
    index_template = "admin/back_office_index.html"
    site_url = None  # no public site: "Ver el sitio" led to a 404

    def index(self, request, extra_context=None):
        return super().index(request, {**(extra_context or {}), "tablero": tablero()})

    def get_app_list(self, request, app_label=None):
        negocio, internas = [], []
        for app in super().get_app_list(request, app_label):
            modelos_internos = [model for model in app["models"] if getattr(self._registry[model["model"]], "interno", False)]
            modelos_de_negocio = [model for model in app["models"] if model not in modelos_internos]
            if modelos_de_negocio:
                negocio.append({**app, "models": modelos_de_negocio})
            if modelos_internos:
                internas.append({**app, "name": f"Interno · {app['name']}", "models": modelos_internos})
        return negocio + internas


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


def cantidad(valor) -> str:
    """A count as the charts show it: with the back office's thousands separator ("12 345")."""
    return number_format(valor, force_grouping=True)


def barras(titulo: str, valores: dict, etiqueta=cantidad, *, html_id: str = "") -> dict:
    """A bar chart (drawn as SVG by admin/grafico_barras.html) of {day: value}, oldest first: a bar per
    day, under it the first day, every 7th and the last (dd/mm), on its left the scale (0 and the
    maximum), over the bars their values where they fit; `etiqueta` formats a
    value; `html_id` names the SVG for whoever looks for it (tests, links). Coordinates are in the
    SVG's viewBox units, CHART_WIDTH × CHART_HEIGHT."""
    maximo = max(valores.values())
    cero = type(maximo)(0)  # the values' own zero: an amount's label needs a Decimal
    escala = [etiqueta(cero), *([etiqueta(maximo)] if maximo > 0 else [])]
    izquierda = round(max(CHART_MIN_LEFT, max(ancho_de_texto(texto, CHART_AXIS_FONT) for texto in escala) + 8))
    derecha, abajo = CHART_WIDTH - CHART_RIGHT, CHART_HEIGHT - CHART_BOTTOM
    paso = (derecha - izquierda) / len(valores)
    dibujadas = [_barra(izquierda + indice * paso, paso, abajo, dia, valor, maximo, etiqueta)
                 for indice, (dia, valor) in enumerate(valores.items())]
    return {
        "titulo": titulo,
        "html_id": html_id,
        "total": etiqueta(sum(valores.values())),
        "ancho": CHART_WIDTH,
        "alto": CHART_HEIGHT,
        "izquierda": izquierda,
        "derecha": derecha,
        "arriba": CHART_TOP,
        "abajo": abajo,
        "barras": dibujadas,
        "fechas": [{"x": barra["centro"], "dia": barra["dia"]} for barra in _con_fecha(dibujadas)],
        "escala": [{"y": y, "texto": texto} for y, texto in zip((abajo, CHART_TOP), escala)],
        "etiquetas": _etiquetas_de_valor(dibujadas),
        "sin_datos": not any(valores.values()),
    }


def ancho_de_texto(texto: str, tamanio: float) -> float:
    # An estimate (a digit is about 0.6 em wide) to keep labels apart without measuring them in a browser.
    return len(texto) * tamanio * 0.6


def _barra(x, paso, abajo, dia, valor, maximo, etiqueta) -> dict:
    # A day whose refunds exceed what it earned (a negative net commission) draws no bar; its title tells.
    alto = round(max((abajo - CHART_TOP) * float(valor / maximo), 0), 1) if maximo > 0 else 0
    ancho = round(paso * 0.7, 1)
    return {"x": round(x + (paso - ancho) / 2, 1), "y": round(abajo - alto, 1), "ancho": ancho, "alto": alto,
            "centro": round(x + paso / 2, 1), "dia": dia, "valor": etiqueta(valor)}


def _con_fecha(barras: list[dict]) -> list[dict]:
    """The first bar, every 7th and the last; a 7th too close to the last (its date would overlap) goes."""
    ultima = len(barras) - 1
    return [barra for indice, barra in enumerate(barras)
            if indice == ultima or (indice % 7 == 0 and ultima - indice > 3)]


def _etiquetas_de_valor(barras: list[dict]) -> list[dict]:
    """The values over the bars drawn, tallest first (the most recent first among equals), each where it
    crosses no other label and no taller bar: every bar's when they fit their width (30 small counts),
    else the peaks' (amounts); kept right of the scale and inside the chart."""
    etiquetas, ocupado = [], []  # ocupado: the spans of the labels placed and of the bars already seen (taller)
    for barra in sorted((barra for barra in reversed(barras) if barra["alto"] > 0), key=lambda barra: -barra["alto"]):
        mitad = ancho_de_texto(barra["valor"], CHART_VALUE_FONT) / 2
        centro = min(max(barra["centro"], barras[0]["x"] + mitad), CHART_WIDTH - mitad)
        desde, hasta = centro - mitad - 1, centro + mitad + 1
        if all(hasta <= inicio or fin <= desde for inicio, fin in ocupado):
            ocupado.append((desde, hasta))
            etiquetas.append({"x": round(centro, 1), "y": round(barra["y"] - 4, 1), "texto": barra["valor"]})
        ocupado.append((barra["x"], barra["x"] + barra["ancho"]))
    return etiquetas
