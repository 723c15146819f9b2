"""CSV exports of commissions and payouts, for the API (GET /pagos/transacciones.csv,
/pagos/payouts.csv) and the admin's "Exportar a CSV": the JSON list's fields, a Monto split into
`<campo>_valor` (to the currency's minor unit, as the JSON shows it) and `<campo>_moneda`, instants in
ISO 8601 with the offset of TIME_ZONE.

Rows are streamed: `iterator()` reads them through a server-side cursor (on PostgreSQL, WITH HOLD in
autocommit) a chunk at a time, so a million rows cost the web process what one chunk costs."""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from alpespartners.seedwork.domain import to_minor_unit

CHUNK_SIZE = 2000  # rows per fetch from the cursor, and per piece of the response


@dataclass(frozen=True)
class Exportacion:
    nombre: str  # of the file
    encabezados: tuple[str, ...]
    campos: tuple[str, ...]  # what values_list reads; `fila` turns them into the row under `encabezados`
    fila: Callable[..., tuple]


def _instante(valor: datetime) -> str:
    return timezone.localtime(valor).isoformat()


def _fila_transaccion(id, id_socio, id_campania, id_externo, tipo, comision, moneda, estado_actual, pagable_desde,
                      id_payout) -> tuple:
    return (id, id_socio, id_campania, id_externo, tipo, to_minor_unit(comision, moneda), moneda, estado_actual,
            _instante(pagable_desde), id_payout)


TRANSACCIONES = Exportacion(
    nombre="transacciones",
    encabezados=("id", "id_socio", "id_campania", "id_externo", "tipo", "comision_valor", "comision_moneda", "estado",
                 "pagable_desde", "id_payout"),
    # estado_actual: the state the API shows (PAGABLE once the retention has passed), from queries.transacciones.
    campos=("id", "id_socio", "id_campania", "id_externo", "tipo", "comision", "moneda", "estado_actual",
            "pagable_desde", "id_payout"),
    fila=_fila_transaccion,
)


def _fila_payout(id, id_socio, id_ciclo, fecha_corte, monto_total, moneda, estado, transacciones, intentos,
                 confirmacion, motivo_fallo) -> tuple:
    return (id, id_socio, id_ciclo, fecha_corte.isoformat(), to_minor_unit(monto_total, moneda), moneda, estado,
            transacciones, intentos, confirmacion, motivo_fallo)


PAYOUTS = Exportacion(
    nombre="payouts",
    encabezados=("id", "id_socio", "ciclo", "fecha_corte", "monto_total_valor", "monto_total_moneda", "estado",
                 "transacciones", "intentos", "confirmacion", "motivo_fallo"),
    campos=("id", "id_socio", "id_ciclo", "fecha_corte", "monto_total", "moneda", "estado", "transacciones",
            "intentos", "confirmacion", "motivo_fallo"),
    fila=_fila_payout,
)


class _Eco:
    """What csv.writer writes to: it hands each line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def lineas(exportacion: Exportacion, queryset: QuerySet) -> Iterator[str]:
    """The CSV text, a chunk of rows per piece (one piece per row would be a million writes to the socket)."""
    writer = csv.writer(_Eco())
    yield writer.writerow(exportacion.encabezados)
    pieza = []
    for valores in queryset.values_list(*exportacion.campos).iterator(chunk_size=CHUNK_SIZE):
        pieza.append(writer.writerow(exportacion.fila(*valores)))
        if len(pieza) == CHUNK_SIZE:
            yield "".join(pieza)
            pieza = []
    if pieza:
        yield "".join(pieza)


def respuesta(exportacion: Exportacion, queryset: QuerySet) -> StreamingHttpResponse:
    nombre = f"{exportacion.nombre}-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(lineas(exportacion, queryset), content_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{nombre}"'})
