"""The shared kernel every context builds on. Plain Python: no framework imports."""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

# Minor units per ISO 4217 code; anything not listed has two.
MINOR_UNITS = {"COP": 2, "USD": 2, "EUR": 2, "MXN": 2, "CLP": 0, "JPY": 0, "PEN": 2, "BRL": 2}


def to_minor_unit(valor: Decimal, moneda: str) -> Decimal:
    """An amount to its currency's minor unit, as it is shown: 30.03 COP, 1500 CLP."""
    return valor.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(moneda, 2)))


# An amount written as text (fullmatch): ASCII digits, an optional minus sign, an optional point with
# digits on both sides. Decimal() alone would also read "١٠٠" (any script's digits), "1_000", "1e3" and " 10".
DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def decimales(valor: Decimal) -> int:
    """Decimal places that count (10.50 has 1, 10.00 none); exact, unlike quantize, whose context caps the digits."""
    _, digitos, exponente = valor.as_tuple()
    significativos = "".join(map(str, digitos)).rstrip("0")
    return max(0, -exponente - (len(digitos) - len(significativos))) if significativos else 0


class DomainError(Exception):
    """A business rule refused the operation. Never retried; the message is shown to the user."""

    code = "regla_de_negocio"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "no_encontrado"


class TransientError(Exception):
    """A failure that may pass if the same work is tried again (a conflict, a flaky gateway)."""


class ConcurrencyConflict(TransientError):
    """Another writer changed the aggregate first. Transient: the command is retried."""


@dataclass(frozen=True)
class Monto:
    valor: Decimal
    moneda: str

    def __post_init__(self):
        if isinstance(self.valor, float):
            raise DomainError("El valor de un monto no puede ser float.", "valor")
        if isinstance(self.valor, str) and not DECIMAL_TEXT.fullmatch(self.valor):
            raise DomainError('El valor de un monto se escribe con dígitos ASCII, p. ej. "1250.50".', "valor")
        try:
            valor = Decimal(self.valor)
        except (InvalidOperation, TypeError, ValueError) as error:
            raise DomainError(f"Valor de monto inválido: {self.valor!r}.", "valor") from error
        if not valor.is_finite():
            raise DomainError("El valor de un monto debe ser finito.", "valor")
        if not (isinstance(self.moneda, str) and len(self.moneda) == 3 and self.moneda.isascii()
                and self.moneda.isalpha() and self.moneda.isupper()):
            raise DomainError(f"Moneda inválida: {self.moneda!r}; se espera un código ISO 4217.", "moneda")
        object.__setattr__(self, "valor", valor)

    def as_dict(self) -> dict[str, str]:
        return {"valor": str(self.valor), "moneda": self.moneda}


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """A fact, named in the past tense. `version` changes only with a breaking change of `data`."""

    version: ClassVar[int] = 1
    aggregate_id: uuid.UUID
    event_id: uuid.UUID = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=now)

    @property
    def type(self) -> str:
        return type(self).__name__

    def data(self) -> dict[str, Any]:
        """The event's own fields as JSON-ready values (the `data` of the envelope)."""
        return {name: to_json_value(getattr(self, name)) for name in type(self)._data_fields()}

    @classmethod
    @functools.cache
    def _data_fields(cls) -> tuple[str, ...]:
        skipped = {"aggregate_id", "event_id", "occurred_at"}
        return tuple(item.name for item in dataclasses.fields(cls) if item.name not in skipped)


def to_json_value(value: Any) -> Any:
    if isinstance(value, Monto):
        return value.as_dict()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json_value(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value):
        return {item.name: to_json_value(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if hasattr(value, "value") and hasattr(value, "name"):  # enum
        return value.value
    return value


class Aggregate:
    """An entity with an identity that records what happened to it as domain events."""

    def __init__(self, id: uuid.UUID, version: int = 0):
        self.id = id
        self.version = version
        self.pending_events: list[DomainEvent] = []

    def record(self, event: DomainEvent) -> None:
        self.pending_events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        events, self.pending_events = self.pending_events, []
        return events


@dataclass(frozen=True, kw_only=True)
class Command:
    """An instruction, named in the imperative. Identified by the id of its command-log entry."""

    def as_payload(self) -> dict[str, Any]:
        return to_json_value(self)


def from_payload(dataclass_type: type, payload: dict[str, Any]) -> Any:
    """Rebuild a command or event from its JSON (command log, event store), typing each field by its annotation."""
    values = {name: _parse(annotation, payload[name]) for name, annotation in _init_fields(dataclass_type) if name in payload}
    return dataclass_type(**values)


def from_envelope(event_type: type, envelope: dict[str, Any]) -> Any:
    """Another context's integration event, typed at the edge: the fields of its `data` the class
    declares, its `occurred_at`, and its `aggregate_id` under the name the class gives it
    (`aggregate: ClassVar[str]`, e.g. "id_cliente")."""
    payload = {**envelope["data"], "occurred_at": envelope["occurred_at"],
               getattr(event_type, "aggregate", "aggregate_id"): envelope["aggregate_id"]}
    return from_payload(event_type, payload)


@functools.cache  # resolving annotations is costly, and a replay rebuilds thousands of events
def _init_fields(dataclass_type: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(dataclass_type)
    return tuple((item.name, hints[item.name]) for item in dataclasses.fields(dataclass_type) if item.init)


def _parse(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(annotation, type) and type(value) is annotation:  # already typed (a stored row's columns)
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _parse(candidates[0], value)
    if origin is dict:
        return dict(value)
    if origin in (list, tuple):
        (item_type, *_) = typing.get_args(annotation) or (Any,)
        return origin(_parse(item_type, item) for item in value)
    if annotation is uuid.UUID:
        return uuid.UUID(str(value))
    if annotation is Decimal:
        return Decimal(str(value))
    if annotation is datetime:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if annotation is date:
        return date.fromisoformat(str(value))
    if annotation is Monto:
        return Monto(Decimal(str(value["valor"])), value["moneda"])
    if dataclasses.is_dataclass(annotation):  # an item of a batch command
        return from_payload(annotation, value)
    return value
