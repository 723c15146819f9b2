"""The `Cliente` aggregate: brands and partners, natural persons or companies. No Django here."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from alpespartners.seedwork.domain import Aggregate, DomainError, DomainEvent


class TipoCliente(StrEnum):
    NATURAL = "NATURAL"
    EMPRESA = "EMPRESA"


class EstadoCliente(StrEnum):
    ACTIVO = "ACTIVO"
    SUSPENDIDO = "SUSPENDIDO"


class TipoMedioPago(StrEnum):
    TARJETA = "TARJETA"
    PSE = "PSE"
    TRANSFERENCIA = "TRANSFERENCIA"


EDAD_MINIMA = 18
NOMBRE_MAXIMO = 200
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# ASCII digits only, whole string (fullmatch): \d and int() also take other scripts' digits, so
# "٥٢٧٨٩٤٥٦" would register a second client with cédula 52789456; $ would let a trailing newline in.
CEDULA_PATTERN = re.compile(r"[0-9]{6,10}")
NIT_PATTERN = re.compile(r"([0-9]{9})-([0-9])")
# DIAN weights for the verification digit, applied from the rightmost digit of the NIT.
PESOS_DIAN = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


# --- rules on single values (also used by the API serializers) ---------------


def validar_nombre(nombre: str) -> str:
    nombre = (nombre or "").strip()
    if not nombre:
        raise DomainError("El nombre es obligatorio.", "nombre")
    if len(nombre) > NOMBRE_MAXIMO:
        raise DomainError(f"El nombre admite como máximo {NOMBRE_MAXIMO} caracteres.", "nombre")
    return nombre


def validar_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise DomainError("El email no es válido.", "email")
    return email


def validar_cedula(cedula: str) -> str:
    if not (isinstance(cedula, str) and CEDULA_PATTERN.fullmatch(cedula)):
        raise DomainError("La cédula debe tener entre 6 y 10 dígitos (0-9), sin puntos ni espacios.", "cedula")
    return cedula


def digito_verificacion_nit(numero: str) -> int:
    total = sum(int(digito) * peso for digito, peso in zip(reversed(numero), PESOS_DIAN))
    residuo = total % 11
    return residuo if residuo < 2 else 11 - residuo


def validar_nit(nit: str) -> str:
    match = NIT_PATTERN.fullmatch(nit) if isinstance(nit, str) else None
    if not match:
        raise DomainError("El NIT debe tener 9 dígitos (0-9), un guion y el dígito de verificación (p. ej. 900123456-8).", "nit")
    numero, digito = match.groups()
    if digito_verificacion_nit(numero) != int(digito):
        raise DomainError("El dígito de verificación del NIT no corresponde (DIAN).", "nit")
    return nit


def edad(fecha_nacimiento: date, hoy: date) -> int:
    cumplidos = (hoy.month, hoy.day) >= (fecha_nacimiento.month, fecha_nacimiento.day)
    return hoy.year - fecha_nacimiento.year - (0 if cumplidos else 1)


def validar_fecha_nacimiento(fecha_nacimiento: date, hoy: date) -> date:
    if fecha_nacimiento > hoy:
        raise DomainError("La fecha de nacimiento no puede ser futura.", "fecha_nacimiento")
    if edad(fecha_nacimiento, hoy) < EDAD_MINIMA:
        raise DomainError(f"Un cliente natural debe ser mayor de edad ({EDAD_MINIMA} años).", "fecha_nacimiento")
    return fecha_nacimiento


def validar_fecha_constitucion(fecha_constitucion: date, hoy: date) -> date:
    if fecha_constitucion > hoy:
        raise DomainError("La fecha de constitución no puede ser futura.", "fecha_constitucion")
    return fecha_constitucion


# --- value objects and events -------------------------------------------------


@dataclass(frozen=True)
class MedioPago:
    id: uuid.UUID
    tipo: TipoMedioPago
    token: str
    mascara: str
    predeterminado: bool


@dataclass(frozen=True, kw_only=True)
class ClienteRegistrado(DomainEvent):
    tipo: str
    nombre: str
    email: str
    tipo_documento: str
    numero_documento: str
    fecha_nacimiento: date | None
    fecha_constitucion: date | None
    estado: str


@dataclass(frozen=True, kw_only=True)
class ClienteActualizado(DomainEvent):
    nombre: str
    email: str


@dataclass(frozen=True, kw_only=True)
class ClienteSuspendido(DomainEvent):
    motivo: str


@dataclass(frozen=True, kw_only=True)
class ClienteReactivado(DomainEvent):
    motivo: str


@dataclass(frozen=True, kw_only=True)
class MedioPagoRegistrado(DomainEvent):
    id_medio_pago: uuid.UUID
    tipo: str
    token: str
    mascara: str
    predeterminado: bool


# --- the aggregate ------------------------------------------------------------


class Cliente(Aggregate):
    def __init__(self, id, *, tipo, nombre, email, cedula=None, nit=None, fecha_nacimiento=None,
                 fecha_constitucion=None, estado=EstadoCliente.ACTIVO, medios_pago=(), version=0):
        super().__init__(id, version)
        self.tipo = TipoCliente(tipo)
        self.nombre = nombre
        self.email = email
        self.cedula = cedula
        self.nit = nit
        self.fecha_nacimiento = fecha_nacimiento
        self.fecha_constitucion = fecha_constitucion
        self.estado = EstadoCliente(estado)
        self.medios_pago: list[MedioPago] = list(medios_pago)

    @classmethod
    def registrar(cls, id: uuid.UUID, *, tipo: str, nombre: str, email: str, hoy: date, cedula: str | None = None,
                  nit: str | None = None, fecha_nacimiento: date | None = None,
                  fecha_constitucion: date | None = None) -> "Cliente":
        try:
            tipo = TipoCliente(tipo)
        except ValueError:
            raise DomainError("El tipo debe ser NATURAL o EMPRESA.", "tipo") from None
        nombre, email = validar_nombre(nombre), validar_email(email)
        if tipo is TipoCliente.NATURAL:
            if nit or fecha_constitucion:
                raise DomainError("Un cliente NATURAL no lleva NIT ni fecha de constitución.", "nit" if nit else "fecha_constitucion")
            if not fecha_nacimiento:
                raise DomainError("La fecha de nacimiento es obligatoria para un cliente NATURAL.", "fecha_nacimiento")
            cedula = validar_cedula(cedula)
            fecha_nacimiento = validar_fecha_nacimiento(fecha_nacimiento, hoy)
            tipo_documento, numero_documento = "cedula", cedula
        else:
            if cedula or fecha_nacimiento:
                raise DomainError("Un cliente EMPRESA no lleva cédula ni fecha de nacimiento.", "cedula" if cedula else "fecha_nacimiento")
            if not fecha_constitucion:
                raise DomainError("La fecha de constitución es obligatoria para un cliente EMPRESA.", "fecha_constitucion")
            nit = validar_nit(nit)
            fecha_constitucion = validar_fecha_constitucion(fecha_constitucion, hoy)
            tipo_documento, numero_documento = "nit", nit
        cliente = cls(id, tipo=tipo, nombre=nombre, email=email, cedula=cedula, nit=nit,
                      fecha_nacimiento=fecha_nacimiento, fecha_constitucion=fecha_constitucion)
        cliente.record(ClienteRegistrado(
            aggregate_id=id, tipo=tipo.value, nombre=nombre, email=email, tipo_documento=tipo_documento,
            numero_documento=numero_documento, fecha_nacimiento=fecha_nacimiento,
            fecha_constitucion=fecha_constitucion, estado=cliente.estado.value,
        ))
        return cliente

    def actualizar(self, *, nombre: str | None = None, email: str | None = None) -> None:
        nombre = validar_nombre(nombre) if nombre is not None else self.nombre
        email = validar_email(email) if email is not None else self.email
        if (nombre, email) == (self.nombre, self.email):
            raise DomainError("La actualización no cambia ningún dato del cliente.")
        self.nombre, self.email = nombre, email
        self.record(ClienteActualizado(aggregate_id=self.id, nombre=nombre, email=email))

    def suspender(self, motivo: str = "") -> None:
        if self.estado is EstadoCliente.SUSPENDIDO:
            raise DomainError("El cliente ya está suspendido.", "estado")
        self.estado = EstadoCliente.SUSPENDIDO
        self.record(ClienteSuspendido(aggregate_id=self.id, motivo=motivo))

    def reactivar(self, motivo: str = "") -> None:
        if self.estado is EstadoCliente.ACTIVO:
            raise DomainError("El cliente ya está activo.", "estado")
        self.estado = EstadoCliente.ACTIVO
        self.record(ClienteReactivado(aggregate_id=self.id, motivo=motivo))

    def registrar_medio_pago(self, *, id: uuid.UUID, tipo: str, token: str, mascara: str, predeterminado: bool = False) -> None:
        if self.estado is EstadoCliente.SUSPENDIDO:
            raise DomainError("Un cliente suspendido no puede registrar medios de pago.", "estado")
        try:
            tipo = TipoMedioPago(tipo)
        except ValueError:
            raise DomainError("El tipo de medio de pago debe ser TARJETA, PSE o TRANSFERENCIA.", "tipo") from None
        if not token or not mascara:
            raise DomainError("El token y la máscara del medio de pago son obligatorios.", "token" if not token else "mascara")
        if any(medio.id == id for medio in self.medios_pago):
            raise DomainError("Ya existe un medio de pago con ese id.", "id")
        if any(medio.token == token for medio in self.medios_pago):
            raise DomainError("Ese medio de pago ya está registrado.", "token")
        # The first method is the default; a new default replaces the old one.
        predeterminado = predeterminado or not self.medios_pago
        if predeterminado:
            self.medios_pago = [replace(medio, predeterminado=False) for medio in self.medios_pago]
        self.medios_pago.append(MedioPago(id=id, tipo=tipo, token=token, mascara=mascara, predeterminado=predeterminado))
        self.record(MedioPagoRegistrado(aggregate_id=self.id, id_medio_pago=id, tipo=tipo.value, token=token,
                                        mascara=mascara, predeterminado=predeterminado))
