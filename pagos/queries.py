"""The read side: CobroView, and Transaccion, CicloPago and Payout (set-based work writes them
directly; they are their own read models)."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Now, TruncDate
from django.utils import timezone

from alpespartners.seedwork.domain import Monto

from . import repository
from .domain import EstadoTransaccion, TipoConversion, TipoInteraccion
from .models import CampaniaLocal, CicloPago, ClienteLocal, Click, CobroView, IntentoPayout, Payout, Transaccion


def con_nombres(queryset: QuerySet, *campos: str) -> QuerySet:
    """Rows with the names of the clients and campaigns whose ids they hold, from pagos' own copies
    (one subquery each, no join with another context's tables): `con_nombres(payouts, "id_socio")`
    annotates `nombre_socio`. A field named id_campania takes the campaign's name, any other a client's."""
    return queryset.annotate(**{
        anotacion_de_nombre(campo): Subquery((CampaniaLocal if campo == "id_campania" else ClienteLocal).objects
                                             .filter(id=OuterRef(campo)).values("nombre")[:1])
        for campo in campos
    })


def anotacion_de_nombre(campo: str) -> str:
    return "nombre_" + campo.removeprefix("id_")


def intentos_de_payout(id_payout) -> QuerySet[IntentoPayout]:
    return IntentoPayout.objects.filter(id_payout=id_payout)


def cobros(*, id_campania=None, id_cliente=None, estado: str | None = None) -> QuerySet[CobroView]:
    queryset = CobroView.objects.all()
    if id_campania:
        queryset = queryset.filter(id_campania=id_campania)
    if id_cliente:
        queryset = queryset.filter(id_cliente=id_cliente)
    if estado:
        queryset = queryset.filter(estado=estado)
    return queryset


def cobro(id_pago) -> CobroView | None:
    return CobroView.objects.filter(id=id_pago).first()


# A PENDIENTE commission whose retention has passed is PAGABLE, whether or not a cycle has
# written it yet: the state is read against the clock.
_PAGABLE_YA = Q(estado=EstadoTransaccion.PENDIENTE.value, pagable_desde__lte=Now())


def transacciones(*, id_socio=None, id_campania=None, id_payout=None, estado: str | None = None) -> QuerySet[Transaccion]:
    queryset = Transaccion.objects.annotate(
        estado_actual=Case(When(_PAGABLE_YA, then=Value(EstadoTransaccion.PAGABLE.value)), default="estado")
    )
    if id_socio:
        queryset = queryset.filter(id_socio=id_socio)
    if id_campania:
        queryset = queryset.filter(id_campania=id_campania)
    if id_payout:
        queryset = queryset.filter(pk__in=_del_payout(id_payout).values("pk"))
    if estado:
        queryset = queryset.filter(estado_actual=estado)
    return queryset


def _del_payout(id_payout) -> QuerySet[Transaccion]:
    """The rows a payout pays: those it covers until it is first sent, then those it claimed."""
    payout = Payout.objects.filter(id=id_payout).only("id_socio", "estado", "intentos").first()
    if payout is None:
        return Transaccion.objects.none()
    if payout.sin_enviar:
        return repository.cubiertas(id_payout)
    # Through the partner's index: id_payout has none (see Transaccion).
    return Transaccion.objects.filter(id_socio=payout.id_socio, id_payout=id_payout)


def de_campanias_de_marca(queryset: QuerySet, id_marca) -> QuerySet:
    """Rows (commissions) of the brand's campaigns."""
    return queryset.filter(id_campania__in=CampaniaLocal.objects.filter(id_marca=id_marca).values("id"))


def campanias_de_marca(id_marca, ids) -> set:
    """Which of `ids` are campaigns of the brand."""
    return set(CampaniaLocal.objects.filter(id_marca=id_marca, id__in=ids).values_list("id", flat=True))


def transaccion(id_transaccion) -> Transaccion | None:
    return transacciones().filter(id=id_transaccion).first()


def ciclos() -> QuerySet[CicloPago]:
    return CicloPago.objects.all()


def ciclo(id_ciclo) -> CicloPago | None:
    return CicloPago.objects.filter(id=id_ciclo).first()


def payouts_por_estado(id_ciclo) -> dict[str, int]:
    return dict(Payout.objects.filter(id_ciclo=id_ciclo).order_by().values("estado").annotate(total=Count("id"))
                .values_list("estado", "total"))


def payouts(*, id_socio=None, estado: str | None = None, ciclo=None) -> QuerySet[Payout]:
    queryset = Payout.objects.all()
    if id_socio:
        queryset = queryset.filter(id_socio=id_socio)
    if estado:
        queryset = queryset.filter(estado=estado)
    if ciclo:
        queryset = queryset.filter(id_ciclo=ciclo)
    return queryset


def payout(id_payout) -> Payout | None:
    return Payout.objects.filter(id=id_payout).first()


# --- the back office's numbers ------------------------------------------------------------


def payouts_por_estado_y_moneda() -> list[dict]:
    """[{estado, moneda, total, monto}]."""
    return list(Payout.objects.order_by("estado", "moneda").values("estado", "moneda")
                .annotate(total=Count("id"), monto=Sum("monto_total")))


def comisiones_por_estado_y_moneda() -> list[dict]:
    """[{estado, moneda, total, monto}], with the state a client sees (PAGABLE once its hold ended)."""
    return list(transacciones().order_by("estado_actual", "moneda").values("estado_actual", "moneda")
                .annotate(total=Count("id"), monto=Sum("comision")))


# CLICK and IMPRESION commissions bill clicks; only sales and sign-ups are conversions.
_CONVERSIONES = Q(tipo__in=[TipoConversion.VENTA.value, TipoConversion.CONVERSION.value])


def conversiones_por_dia(desde: datetime) -> list[dict]:
    """[{dia, moneda, conversiones, comisiones}] of the commissions that occurred since `desde`
    (adjustments excluded); billed clicks and impressions add to the commissions, not the conversions."""
    return list(Transaccion.objects.filter(ocurrida_en__gte=desde, id_transaccion_original__isnull=True)
                .annotate(dia=TruncDate("ocurrida_en")).order_by("dia", "moneda").values("dia", "moneda")
                .annotate(conversiones=Count("id", filter=_CONVERSIONES), comisiones=Sum("comision")))


# --- the performance report (GET /reportes/rendimiento, the admin's campaign page) ----------

_CUATRO_DECIMALES = Decimal("0.0001")


def rendimiento(desde: date, hasta: date, *, id_campania=None, id_socio=None,
                acotar: Callable[[QuerySet], QuerySet] | None = None) -> list[dict]:
    """Per (día, id_campania, id_socio) with any click, impression or commission from `desde` to
    `hasta` (days in TIME_ZONE), ordered so: clicks, clicks_facturables, impresiones, conversiones,
    tasa_conversion (conversiones / clicks, 4 places; None without clicks) and comisiones (a Monto
    per currency: every commission and adjustment except the REVERTIDA ones).
    `acotar` narrows both clicks and commissions (a role's scope). Two aggregate queries."""
    inicio, fin = _inicio_del_dia(desde), _inicio_del_dia(hasta + timedelta(days=1))
    clicks = Click.objects.filter(ocurrido_en__gte=inicio, ocurrido_en__lt=fin)
    transacciones = Transaccion.objects.filter(ocurrida_en__gte=inicio, ocurrida_en__lt=fin)
    if id_campania:
        clicks, transacciones = clicks.filter(id_campania=id_campania), transacciones.filter(id_campania=id_campania)
    if id_socio:
        clicks, transacciones = clicks.filter(id_socio=id_socio), transacciones.filter(id_socio=id_socio)
    if acotar:
        clicks, transacciones = acotar(clicks), acotar(transacciones)

    filas: dict[tuple, dict] = {}
    for grupo in (clicks.annotate(dia=TruncDate("ocurrido_en")).order_by().values("dia", "id_campania", "id_socio")
                  .annotate(clicks=Count("id", filter=Q(tipo=TipoInteraccion.CLICK.value)),
                            clicks_facturables=Count("id", filter=Q(tipo=TipoInteraccion.CLICK.value, facturable=True)),
                            impresiones=Count("id", filter=Q(tipo=TipoInteraccion.IMPRESION.value)))):
        _fila(filas, grupo).update(clicks=grupo["clicks"], clicks_facturables=grupo["clicks_facturables"],
                                   impresiones=grupo["impresiones"])
    # order_by() first: Transaccion's default ordering would split the groups.
    for grupo in (transacciones.annotate(dia=TruncDate("ocurrida_en")).order_by()
                  .values("dia", "id_campania", "id_socio", "moneda")
                  .annotate(conversiones=Count("id", filter=_CONVERSIONES),
                            comisiones=Sum("comision", filter=~Q(estado=EstadoTransaccion.REVERTIDA.value)))
                  .order_by("moneda")):
        fila = _fila(filas, grupo)
        fila["conversiones"] += grupo["conversiones"]
        if grupo["comisiones"] is not None:  # None: all of that currency's were refunded before payment
            fila["comisiones"].append(Monto(grupo["comisiones"], grupo["moneda"]))
    for fila in filas.values():
        fila["tasa_conversion"] = (
            (Decimal(fila["conversiones"]) / fila["clicks"]).quantize(_CUATRO_DECIMALES, ROUND_HALF_UP)
            if fila["clicks"] else None
        )
    return [filas[clave] for clave in sorted(filas)]


def _inicio_del_dia(dia: date) -> datetime:
    return timezone.make_aware(datetime.combine(dia, time.min))


def _fila(filas: dict, grupo: dict) -> dict:
    clave = (grupo["dia"], grupo["id_campania"], grupo["id_socio"])
    if clave not in filas:
        filas[clave] = {"dia": grupo["dia"], "id_campania": grupo["id_campania"], "id_socio": grupo["id_socio"],
                        "clicks": 0, "clicks_facturables": 0, "impresiones": 0, "conversiones": 0, "comisiones": []}
    return filas[clave]
