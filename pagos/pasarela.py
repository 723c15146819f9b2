"""Adapters of the `PasarelaPagos` port, chosen by settings.PASARELA_PAGOS. A real provider is one more entry."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from alpespartners.seedwork.domain import Monto

from .domain import ErrorTransitorioPasarela, PagoDeclinado, PasarelaPagos
from .models import OperacionSimulada

COBRO, REEMBOLSO, PAYOUT = "COBRO", "REEMBOLSO", "PAYOUT"
PREFIJOS = {COBRO: "sim_ch", REEMBOLSO: "sim_re", PAYOUT: "sim_po"}
FALLOS_TRANSITORIOS = 2  # tok_inestable fails this many times per key, then succeeds


class PasarelaSimulada:
    """Deterministic by token: `tok_ok` pays, `tok_rechazado` is declined, `tok_inestable` fails
    twice with a transient error and then pays, any other token is unknown to the provider.

    Each call is recorded in its own transaction (outside the handler's unit of work) and the
    key's row is locked while it is decided, so concurrent or repeated calls with one key never
    move money twice: a decided key answers what it answered the first time."""

    def cobrar(self, clave_idempotencia: str, token: str, monto: Monto) -> str:
        return self._operar(clave_idempotencia, COBRO, token, monto)

    def reembolsar(self, clave_idempotencia: str, confirmacion: str, monto: Monto) -> str:
        cobro = OperacionSimulada.objects.filter(tipo=COBRO, confirmacion=confirmacion).first()
        if cobro is None:
            raise PagoDeclinado(f"La pasarela no tiene un cobro confirmado con el código {confirmacion}.",
                                "cobro_desconocido")
        # The refund goes back to the card of the charge, and behaves as that token does.
        return self._operar(clave_idempotencia, REEMBOLSO, cobro.token, monto)

    def pagar(self, clave_idempotencia: str, token: str, monto: Monto) -> str:
        return self._operar(clave_idempotencia, PAYOUT, token, monto)

    def _operar(self, clave_idempotencia: str, tipo: str, token: str, monto: Monto) -> str:
        with transaction.atomic():
            operacion, _ = OperacionSimulada.objects.select_for_update().get_or_create(
                clave_idempotencia=clave_idempotencia,
                defaults={"tipo": tipo, "token": token, "valor": monto.valor, "moneda": monto.moneda},
            )
            operacion.intentos += 1
            transitorio = False
            if operacion.confirmacion is None and not operacion.motivo_declinacion:
                transitorio = self._decidir(operacion)
            operacion.save()
        # Raised after the commit: the attempt is remembered even though this call fails.
        if transitorio:
            raise ErrorTransitorioPasarela(
                f"La pasarela no respondió (intento {operacion.intentos} de la clave {clave_idempotencia})."
            )
        if operacion.motivo_declinacion:
            raise PagoDeclinado(operacion.motivo_declinacion, operacion.codigo_declinacion)
        return operacion.confirmacion

    @staticmethod
    def _decidir(operacion: OperacionSimulada) -> bool:
        """Settle an undecided key by its token. True when this attempt is a transient failure."""
        if operacion.token == "tok_inestable" and operacion.intentos <= FALLOS_TRANSITORIOS:
            return True
        if operacion.token in ("tok_ok", "tok_inestable"):
            operacion.confirmacion = f"{PREFIJOS[operacion.tipo]}_{uuid.uuid4().hex[:20]}"
        elif operacion.token == "tok_rechazado":
            operacion.codigo_declinacion, operacion.motivo_declinacion = "fondos_insuficientes", "Fondos insuficientes."
        else:
            operacion.codigo_declinacion = "medio_desconocido"
            operacion.motivo_declinacion = "La pasarela no reconoce el medio de pago."
        return False


PASARELAS: dict[str, type] = {"simulada": PasarelaSimulada}


def configurada() -> PasarelaPagos:
    """settings.PASARELA_PAGOS names an adapter of PASARELAS, or is the dotted path of one kept
    elsewhere (a provider's package, a test's fake)."""
    nombre = settings.PASARELA_PAGOS
    return (PASARELAS.get(nombre) or import_string(nombre))()
