"""Every write endpoint of /api/v1, read from the URLconf (a new one is found without a list to
update), with real resources for its path and a valid body; and how a hostile client sends a body:
raw JSON bytes, ensure_ascii so that a lone surrogate travels as the escape \\ud800."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from alpespartners.messaging.models import CommandLog, OutboxMessage
from pagos import postbacks
from pagos.models import CicloPago
from tests import factories
from tests.api.test_clientes_api import assert_error
from webhooks import endpoints

API_PREFIX = "api/v1/"
WRITE_METHODS = ("post", "put", "patch", "delete")
READS_NO_BODY = {("DELETE", "campania-socio"), ("POST", "pago-payout-reintentar"), ("DELETE", "webhook-detalle"),
                 ("POST", "webhook-entrega-reenviar")}  # (method, URL name)
# What a valid body gets when it is not 202 (a command): a rotated secret or a webhook endpoint is made
# in the answer, a webhook endpoint changed or removed at once.
ACCEPTED = {("POST", "cliente-secreto-postback"): 201, ("POST", "webhooks"): 201, ("PATCH", "webhook-detalle"): 200,
            ("DELETE", "webhook-detalle"): 204}
PUBLIC_HOOK_URL = "https://1.1.1.1/hooks/alpes"  # a public address: registered, never called here


@dataclass(frozen=True)
class Endpoint:
    method: str  # "POST"
    name: str  # the URL name, e.g. "cliente-medios-pago"
    route: str  # "api/v1/clientes/<uuid:id_cliente>/medios-pago"

    def __str__(self):
        return f"{self.method} {self.name}"

    def path(self, world: "World") -> str:
        path = "/" + self.route
        for parameter, value in world.path_values().items():
            path = path.replace(f"<uuid:{parameter}>", str(value))
        assert "<" not in path, f"{self}: no resource for a parameter of {self.route}; add it to World"
        if self.name == "pago-postbacks":  # authenticated by the brand's secret, which a query can carry
            path += f"?token={world.secreto_postback}"
        return path


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def write_endpoints() -> list[Endpoint]:
    """Every (method, route) under /api/v1 whose view answers POST, PUT, PATCH or DELETE."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        if route.startswith(API_PREFIX) and view_class is not None:
            found += [Endpoint(method.upper(), pattern.name, route) for method in WRITE_METHODS if hasattr(view_class, method)]
    return sorted(found, key=str)


@dataclass
class World:
    """One of each resource a write endpoint's path names, as the read models show them."""

    cliente: uuid.UUID
    campania: uuid.UUID
    socio: uuid.UUID
    cobro: uuid.UUID
    payout: uuid.UUID
    id_externo: str
    click: uuid.UUID
    secreto_postback: str
    webhook: uuid.UUID
    entrega: uuid.UUID

    @classmethod
    def create(cls) -> "World":
        marca = factories.ClienteViewFactory().id
        socio = factories.ClienteViewFactory(tipo="NATURAL", tipo_documento="CC").id
        campania = factories.CampaniaViewFactory(id_cliente=marca)
        factories.SocioCampaniaViewFactory(campania=campania, id_socio=socio)
        factories.CampaniaLocalFactory(id=campania.id, id_marca=marca)
        ciclo = CicloPago.objects.create(id=uuid.uuid4(), fecha_corte="2026-11-01", estado="CALCULADO", origen="api")
        transaccion = factories.TransaccionFactory(id_campania=campania.id, id_socio=socio)
        factories.ClienteLocalFactory(id=marca)
        webhook = endpoints.registrar(marca, PUBLIC_HOOK_URL, ["ComisionRegistrada"]).endpoint
        return cls(
            cliente=marca, campania=campania.id, socio=socio,
            cobro=factories.CobroViewFactory(id_campania=campania.id, id_cliente=marca).id,
            payout=factories.PayoutFactory(id_socio=socio, id_ciclo=ciclo.id).id,
            id_externo=transaccion.id_externo,
            click=factories.ClickFactory(id_campania=campania.id, id_socio=socio).id,
            secreto_postback=postbacks.rotar(marca, revocar_anterior=False, ahora=timezone.now()).secreto,
            webhook=webhook.id, entrega=factories.EntregaFactory(endpoint=webhook).id,
        )

    def path_values(self) -> dict[str, uuid.UUID]:
        return {"id_cliente": self.cliente, "id_campania": self.campania, "id_socio": self.socio,
                "id_pago": self.cobro, "id_payout": self.payout, "id_endpoint": self.webhook, "id_entrega": self.entrega}

    def conversion(self) -> dict:
        return {"id_externo": f"ext-{uuid.uuid4().hex[:12]}", "id_campania": str(self.campania),
                "id_socio": str(self.socio), "tipo": "VENTA", "monto": {"valor": "100.00", "moneda": "COP"},
                "ocurrida_en": timezone.now().isoformat()}

    def valid_bodies(self) -> dict[tuple[str, str], dict | None]:
        """(method, URL name) → a body the endpoint accepts (202); None: it reads no body."""
        motivo = {"motivo": "prueba"}
        return {
            ("POST", "clientes"): factories.ClienteNaturalBody(),
            ("PATCH", "cliente-detalle"): {"nombre": "Nuevo nombre", "email": "nuevo@correo.co"},
            ("POST", "cliente-medios-pago"): {"tipo": "TARJETA", "token": "tok_ok", "mascara": "**** 4242",
                                              "predeterminado": True},
            ("POST", "cliente-suspender"): motivo,
            ("POST", "cliente-reactivar"): motivo,
            ("POST", "campanias"): factories.CampaniaBody(
                id_cliente=str(self.cliente), dias_retencion=30,
                comisiones={"VENTA": {"tipo": "PORCENTAJE", "valor": "7.5"}, "CLICK": {"tipo": "FIJA", "valor": "0.10"}}),
            ("POST", "campania-socios"): {"id_socio": str(self.socio)},
            ("PATCH", "campania-detalle"): {"url_destino": "https://tienda.co/oferta", "ventana_atribucion_dias": 14},
            ("POST", "campania-pausar"): motivo,
            ("POST", "campania-reanudar"): motivo,
            ("POST", "campania-finalizar"): motivo,
            ("POST", "campania-cancelar"): motivo,
            ("POST", "pago-cobro-revertir"): motivo,
            ("POST", "pago-conversiones"): self.conversion(),
            ("POST", "pago-conversiones-lote"): {"conversiones": [self.conversion(), self.conversion()]},
            ("POST", "pago-conversiones-revertir"): {"id_campania": str(self.campania), "id_externo": self.id_externo,
                                                     "motivo": "reembolso"},
            ("POST", "pago-ciclos"): {"fecha_corte": date.today().isoformat()},
            ("POST", "pago-postbacks"): {"click_id": str(self.click), "id_externo": f"pedido-{uuid.uuid4().hex[:8]}",
                                         "tipo": "VENTA", "monto": {"valor": "100.00", "moneda": "COP"}},
            ("POST", "cliente-secreto-postback"): {"revocar_anterior": False},
            ("POST", "webhooks"): {"url": PUBLIC_HOOK_URL, "eventos": ["ComisionRegistrada", "PayoutExitoso"],
                                   "id_cliente": str(self.cliente)},
            ("PATCH", "webhook-detalle"): {"eventos": ["ComisionRegistrada", "PresupuestoAgotado"]},
            ("POST", "webhook-reenviar"): {"desde": (timezone.now() - timedelta(hours=1)).isoformat()},
        } | dict.fromkeys(READS_NO_BODY)


def send(api, method: str, path: str, body=None, raw: bytes | None = None):
    """`body` as JSON text with every non-ASCII character escaped, as a client's JSON library writes it;
    or `raw` bytes as they are."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=True)
    return api.generic(method, path, data, content_type="application/json")


def written() -> tuple[int, int]:
    return CommandLog.objects.count(), OutboxMessage.objects.count()


def assert_refused(answer, status: int, code: str, before: tuple[int, int]) -> dict:
    """A 4xx in the error shape that left no command and no event behind."""
    error = assert_error(answer, status, code)
    assert written() == before, "a refused request wrote a command or an event"
    return error
