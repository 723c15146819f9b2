"""What pagos' three sub-domains share: amounts in a currency's minor units, and the clients' states
as pagos knows them."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from alpespartners.seedwork.domain import MINOR_UNITS, DomainError, Monto

# The write model stores DecimalField(max_digits=20, decimal_places=4): 16 integer digits.
MONTO_MAXIMO = Decimal(10) ** 16


class EstadoCliente(StrEnum):
    """cliente's states as its events tell them (pagos keeps a local copy)."""

    ACTIVO = "ACTIVO"
    SUSPENDIDO = "SUSPENDIDO"


def unidades_menores(moneda: str) -> int:
    return MINOR_UNITS.get(moneda, 2)


def normalizar(monto: Monto) -> Monto:
    """The amount with exactly the currency's minor units, so every event writes it the same way."""
    return Monto(monto.valor.quantize(Decimal(1).scaleb(-unidades_menores(monto.moneda))), monto.moneda)


def validar_monto(monto: Monto, nombre: str) -> Monto:
    """Positive, within the stored range, with the currency's minor units; returned normalised."""
    if monto.valor <= 0:
        raise DomainError(f"{nombre} debe ser mayor que cero.", "monto")
    if monto.valor >= MONTO_MAXIMO:
        raise DomainError(f"{nombre} excede el máximo admitido.", "monto")
    normalizado = normalizar(monto)
    if normalizado.valor != monto.valor:
        raise DomainError(
            f"El monto tiene más decimales de los que admite {monto.moneda} ({unidades_menores(monto.moneda)}).", "monto"
        )
    return normalizado
