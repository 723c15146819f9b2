"""Who sees and commands what, endpoint by endpoint and role by role.

Two brands (A, B), each with a campaign, a charge and an enrolled partner (P in A's campaign, Q in
B's); Q also earned a commission in A's campaign. Users: staff, A's marca user, P's socio user, and
a user linked to no client. Another party's object answers 404 (ids don't leak); an operation the
role may not do at all answers 403; a refused command writes nothing."""

import csv
import io
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alpespartners.access.models import Rol, UsuarioCliente
from alpespartners.messaging.models import CommandLog
from tests import factories
from tests.api.test_clientes_api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

ROLES = ["staff", "marca", "socio", "sin_vinculo"]


@dataclass
class World:
    marca_a: uuid.UUID
    marca_b: uuid.UUID
    socio_p: uuid.UUID
    socio_q: uuid.UUID
    campania_a: uuid.UUID
    campania_b: uuid.UUID
    cobro_a: uuid.UUID
    cobro_b: uuid.UUID
    transaccion_p: object
    transaccion_q_en_a: object
    transaccion_q: object
    payout_p: uuid.UUID
    payout_q: uuid.UUID
    ciclo: uuid.UUID


@pytest.fixture
def world(db) -> World:
    from pagos.models import CicloPago

    marca_a, marca_b = (factories.ClienteViewFactory().id for _ in range(2))
    socio_p, socio_q = (factories.ClienteViewFactory(tipo="NATURAL", tipo_documento="CC").id for _ in range(2))
    for id_cliente in (marca_a, marca_b, socio_p, socio_q):
        factories.ClienteLocalFactory(id=id_cliente)  # what pagos heard of them
    campanias = {}
    for marca, socio in ((marca_a, socio_p), (marca_b, socio_q)):
        campania = factories.CampaniaViewFactory(id_cliente=marca)
        factories.SocioCampaniaViewFactory(campania=campania, id_socio=socio)
        factories.CampaniaLocalFactory(id=campania.id, id_marca=marca)
        campanias[marca] = campania.id
    campania_a, campania_b = campanias[marca_a], campanias[marca_b]
    ciclo = CicloPago.objects.create(id=uuid.uuid4(), fecha_corte="2026-11-01", estado="CALCULADO", origen="api")
    return World(
        marca_a=marca_a, marca_b=marca_b, socio_p=socio_p, socio_q=socio_q,
        campania_a=campania_a, campania_b=campania_b,
        cobro_a=factories.CobroViewFactory(id_campania=campania_a, id_cliente=marca_a).id,
        cobro_b=factories.CobroViewFactory(id_campania=campania_b, id_cliente=marca_b).id,
        transaccion_p=factories.TransaccionFactory(id_campania=campania_a, id_socio=socio_p),
        transaccion_q_en_a=factories.TransaccionFactory(id_campania=campania_a, id_socio=socio_q),
        transaccion_q=factories.TransaccionFactory(id_campania=campania_b, id_socio=socio_q),
        payout_p=factories.PayoutFactory(id_socio=socio_p, id_ciclo=ciclo.id).id,
        payout_q=factories.PayoutFactory(id_socio=socio_q, id_ciclo=ciclo.id).id,
        ciclo=ciclo.id,
    )


@pytest.fixture
def clients(world, django_user_model) -> dict[str, APIClient]:
    users = {
        "staff": django_user_model.objects.create_user("operaciones", is_staff=True),
        "marca": django_user_model.objects.create_user("usuaria-marca-a"),
        "socio": django_user_model.objects.create_user("usuario-socio-p"),
        "sin_vinculo": django_user_model.objects.create_user("recien-llegado"),
    }
    UsuarioCliente.objects.create(user=users["marca"], id_cliente=world.marca_a, rol=Rol.MARCA)
    UsuarioCliente.objects.create(user=users["socio"], id_cliente=world.socio_p, rol=Rol.SOCIO)
    result = {}
    for role, user in users.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        result[role] = client
    return result


# --- one object: the user's own (or the one its role reaches) and another party's -------------

@dataclass
class Case:
    route: str  # the URL pattern, as the coverage check below compares it
    method: str
    # world -> (path of the role's own object, path of another party's), or a suffix of the role's client
    paths: object
    expected: dict[str, tuple[int, int]]  # role -> (answer for its own object, for another party's)
    body: object = None  # (world, own) -> request body

    def call(self, client, world, role: str, own: bool):
        paths = own_cliente(role, self.paths) if isinstance(self.paths, str) else self.paths
        path = paths(world)[0 if own else 1]
        body = self.body(world, own) if self.body else {}
        return getattr(client, self.method.lower())(path, body, format="json")


CLIENTE = "/api/v1/clientes/{}"
CAMPANIA = "/api/v1/campanias/{}"
STAFF_ONLY = {"staff": (202, 202), "marca": (403, 403), "socio": (403, 403), "sin_vinculo": (403, 403)}
OWN_COMMAND = {"staff": (202, 202), "marca": (202, 404), "socio": (202, 404), "sin_vinculo": (403, 403)}
MARCA_COMMAND = {"staff": (202, 202), "marca": (202, 404), "socio": (403, 403), "sin_vinculo": (403, 403)}
OWN_READ = {"staff": (200, 200), "marca": (200, 404), "socio": (200, 404), "sin_vinculo": (403, 403)}
MARCA_READ = {"staff": (200, 200), "marca": (200, 404), "socio": (403, 403), "sin_vinculo": (403, 403)}
SOCIO_READ = {"staff": (200, 200), "marca": (403, 403), "socio": (200, 404), "sin_vinculo": (403, 403)}
STAFF_READ = {"staff": (200, 200), "marca": (403, 403), "socio": (403, 403), "sin_vinculo": (403, 403)}
# Not a command: the secret is made and shown in the answer (201).
MARCA_SECRET = {"staff": (201, 201), "marca": (201, 404), "socio": (403, 403), "sin_vinculo": (403, 403)}


def own_cliente(role, suffix):
    """The client a role's user owns: the socio user owns P; the others are tested on A (and B)."""
    if role == "socio":
        return lambda world: (CLIENTE.format(world.socio_p) + suffix, CLIENTE.format(world.socio_q) + suffix)
    return lambda world: (CLIENTE.format(world.marca_a) + suffix, CLIENTE.format(world.marca_b) + suffix)


def campania_path(suffix=""):
    return lambda world: (CAMPANIA.format(world.campania_a) + suffix, CAMPANIA.format(world.campania_b) + suffix)


def fixed(path):
    return lambda world: (path, path)


def conversion(world, own):
    return {"id_externo": f"nueva-{uuid.uuid4()}", "id_campania": str(world.campania_a if own else world.campania_b),
            "id_socio": str(world.socio_p if own else world.socio_q), "tipo": "VENTA",
            "monto": {"valor": "1000.00", "moneda": "COP"}, "ocurrida_en": "2026-11-20T10:00:00Z"}


CASES = {
    "clientes-registrar": Case("clientes", "POST", fixed("/api/v1/clientes"), STAFF_ONLY,
                               lambda world, own: factories.ClienteEmpresaBody()),
    "cliente-detalle": Case("clientes/<uuid:id_cliente>", "GET", "", OWN_READ),
    "cliente-actualizar": Case("clientes/<uuid:id_cliente>", "PATCH", "", OWN_COMMAND,
                               lambda world, own: {"nombre": "Nuevo nombre"}),
    "cliente-medios-pago": Case("clientes/<uuid:id_cliente>/medios-pago", "POST", "/medios-pago", OWN_COMMAND,
                                lambda world, own: {"tipo": "TARJETA", "token": "tok_ok", "mascara": "**** 1111"}),
    "cliente-secreto-postback": Case("clientes/<uuid:id_cliente>/secreto-postback", "POST",
                                     lambda world: (CLIENTE.format(world.marca_a) + "/secreto-postback",
                                                    CLIENTE.format(world.marca_b) + "/secreto-postback"), MARCA_SECRET),
    "cliente-suspender": Case("clientes/<uuid:id_cliente>/suspender", "POST", "/suspender", STAFF_ONLY),
    "cliente-reactivar": Case("clientes/<uuid:id_cliente>/reactivar", "POST", "/reactivar", STAFF_ONLY),
    "campanias-crear": Case("campanias", "POST", fixed("/api/v1/campanias"), MARCA_COMMAND,
                            lambda world, own: factories.CampaniaBody(id_cliente=str(world.marca_a if own else world.marca_b))),
    "campania-detalle": Case("campanias/<uuid:id_campania>", "GET", campania_path(), OWN_READ),
    "campania-eventos": Case("campanias/<uuid:id_campania>/eventos", "GET", campania_path("/eventos"), OWN_READ),
    "campania-actualizar": Case("campanias/<uuid:id_campania>", "PATCH", campania_path(), MARCA_COMMAND,
                                lambda world, own: {"ventana_atribucion_dias": 15}),
    "campania-enlaces": Case("campanias/<uuid:id_campania>/enlaces", "GET", campania_path("/enlaces"), OWN_READ),
    "campania-socios": Case("campanias/<uuid:id_campania>/socios", "POST", campania_path("/socios"), MARCA_COMMAND,
                            lambda world, own: {"id_socio": str(world.socio_q)}),
    "campania-socio": Case("campanias/<uuid:id_campania>/socios/<uuid:id_socio>", "DELETE",
                           lambda world: (f"{CAMPANIA.format(world.campania_a)}/socios/{world.socio_p}",
                                          f"{CAMPANIA.format(world.campania_b)}/socios/{world.socio_q}"), MARCA_COMMAND),
    **{f"campania-{action}": Case(f"campanias/<uuid:id_campania>/{action}", "POST", campania_path(f"/{action}"),
                                  MARCA_COMMAND)
       for action in ("pausar", "reanudar", "finalizar", "cancelar")},
    "cobro-detalle": Case("pagos/cobros/<uuid:id_pago>", "GET",
                          lambda world: (f"/api/v1/pagos/cobros/{world.cobro_a}", f"/api/v1/pagos/cobros/{world.cobro_b}"),
                          MARCA_READ),
    "cobro-revertir": Case("pagos/cobros/<uuid:id_pago>/revertir", "POST",
                           lambda world: (f"/api/v1/pagos/cobros/{world.cobro_a}/revertir",
                                          f"/api/v1/pagos/cobros/{world.cobro_b}/revertir"),
                           MARCA_COMMAND, lambda world, own: {"motivo": "La marca pidió el reembolso."}),
    "conversiones": Case("pagos/conversiones", "POST", fixed("/api/v1/pagos/conversiones"), MARCA_COMMAND, conversion),
    "conversiones-lote": Case("pagos/conversiones/lote", "POST", fixed("/api/v1/pagos/conversiones/lote"), MARCA_COMMAND,
                              lambda world, own: {"conversiones": [conversion(world, True), conversion(world, own)]}),
    "conversiones-revertir": Case("pagos/conversiones/revertir", "POST", fixed("/api/v1/pagos/conversiones/revertir"),
                                  MARCA_COMMAND, lambda world, own: {
                                      "id_campania": str(world.campania_a if own else world.campania_b),
                                      "id_externo": (world.transaccion_p if own else world.transaccion_q).id_externo,
                                      "motivo": "Devolución del pedido."}),
    "transaccion-detalle": Case("pagos/transacciones/<uuid:id_transaccion>", "GET",
                                lambda world: (f"/api/v1/pagos/transacciones/{world.transaccion_p.id}",
                                               f"/api/v1/pagos/transacciones/{world.transaccion_q.id}"), OWN_READ),
    "ciclos-ejecutar": Case("pagos/ciclos", "POST", fixed("/api/v1/pagos/ciclos"), STAFF_ONLY),
    "ciclo-detalle": Case("pagos/ciclos/<uuid:id_ciclo>", "GET",
                          lambda world: (f"/api/v1/pagos/ciclos/{world.ciclo}",) * 2, STAFF_READ),
    "payout-detalle": Case("pagos/payouts/<uuid:id_payout>", "GET",
                           lambda world: (f"/api/v1/pagos/payouts/{world.payout_p}",
                                          f"/api/v1/pagos/payouts/{world.payout_q}"), SOCIO_READ),
    "payout-reintentar": Case("pagos/payouts/<uuid:id_payout>/reintentar", "POST",
                              lambda world: (f"/api/v1/pagos/payouts/{world.payout_p}/reintentar",
                                             f"/api/v1/pagos/payouts/{world.payout_q}/reintentar"), STAFF_ONLY),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_endpoint_answers_each_role(name, role, world, clients):
    case = CASES[name]
    for own, expected in zip((True, False), case.expected[role]):
        commands_before = CommandLog.objects.count()
        answer = case.call(clients[role], world, role, own)
        whose = "its own" if own else "another party's"
        assert answer.status_code == expected, f"{role} on {whose}: {answer.status_code} {answer.content[:300]}"
        if expected in (403, 404):
            assert_error(answer, expected)
            assert CommandLog.objects.count() == commands_before, "a refused request wrote a command"
        if case.method == "GET":
            continue
        assert CommandLog.objects.count() == commands_before + (expected == 202)


# --- lists: each role sees exactly its rows, whatever filter it sends ---------------------------


def ids(answer) -> set:
    assert answer.status_code == 200, answer.content[:300]
    return {uuid.UUID(row["id"]) for row in answer.json()["results"]}


def csv_ids(answer) -> set:
    assert answer.status_code == 200, answer.content[:300]
    return {uuid.UUID(row["id"]) for row in csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode()))}


def filas(answer) -> set:
    """The (campaign, partner) pairs of a performance report."""
    assert answer.status_code == 200, answer.content[:300]
    return {(uuid.UUID(row["id_campania"]), uuid.UUID(row["id_socio"])) for row in answer.json()["results"]}


def test_lists_show_each_role_only_its_rows(world, clients):
    staff, marca, socio = clients["staff"], clients["marca"], clients["socio"]
    w = world
    assert ids(staff.get("/api/v1/clientes")) == {w.marca_a, w.marca_b, w.socio_p, w.socio_q}
    assert ids(marca.get("/api/v1/clientes")) == {w.marca_a}
    assert ids(socio.get("/api/v1/clientes")) == {w.socio_p}

    assert ids(staff.get("/api/v1/campanias")) == {w.campania_a, w.campania_b}
    assert ids(marca.get("/api/v1/campanias")) == {w.campania_a}
    assert ids(socio.get("/api/v1/campanias")) == {w.campania_a}  # the one P is enrolled in
    assert ids(marca.get(f"/api/v1/campanias?id_cliente={w.marca_b}")) == set()  # a filter cannot widen

    assert ids(staff.get("/api/v1/pagos/cobros")) == {w.cobro_a, w.cobro_b}
    assert ids(marca.get("/api/v1/pagos/cobros")) == {w.cobro_a}
    assert_error(socio.get("/api/v1/pagos/cobros"), 403, "sin_permiso")

    todas = {w.transaccion_p.id, w.transaccion_q_en_a.id, w.transaccion_q.id}
    assert ids(staff.get("/api/v1/pagos/transacciones")) == todas
    assert ids(marca.get("/api/v1/pagos/transacciones")) == {w.transaccion_p.id, w.transaccion_q_en_a.id}
    assert ids(socio.get("/api/v1/pagos/transacciones")) == {w.transaccion_p.id}
    assert ids(socio.get(f"/api/v1/pagos/transacciones?id_socio={w.socio_q}")) == set()
    for client in (staff, marca, socio):  # the export has the list's rows
        assert csv_ids(client.get("/api/v1/pagos/transacciones.csv")) == ids(client.get("/api/v1/pagos/transacciones"))

    assert ids(staff.get("/api/v1/pagos/payouts")) == {w.payout_p, w.payout_q}
    assert_error(marca.get("/api/v1/pagos/payouts"), 403, "sin_permiso")
    assert ids(socio.get("/api/v1/pagos/payouts")) == {w.payout_p}
    assert csv_ids(staff.get("/api/v1/pagos/payouts.csv")) == {w.payout_p, w.payout_q}
    assert csv_ids(socio.get("/api/v1/pagos/payouts.csv")) == {w.payout_p}
    assert_error(marca.get("/api/v1/pagos/payouts.csv"), 403, "sin_permiso")

    a_p, a_q, b_q = (w.campania_a, w.socio_p), (w.campania_a, w.socio_q), (w.campania_b, w.socio_q)
    assert filas(staff.get("/api/v1/reportes/rendimiento")) == {a_p, a_q, b_q}
    assert filas(marca.get("/api/v1/reportes/rendimiento")) == {a_p, a_q}
    assert filas(socio.get("/api/v1/reportes/rendimiento")) == {a_p}
    assert filas(marca.get(f"/api/v1/reportes/rendimiento?id_campania={w.campania_b}")) == set()
    assert filas(socio.get(f"/api/v1/reportes/rendimiento?id_socio={w.socio_q}")) == set()

    assert ids(staff.get("/api/v1/pagos/ciclos")) == {w.ciclo}
    for role in ("marca", "socio", "sin_vinculo"):
        assert_error(clients[role].get("/api/v1/pagos/ciclos"), 403, "sin_permiso")
    for path in ("/api/v1/clientes", "/api/v1/campanias", "/api/v1/pagos/transacciones", "/api/v1/reportes/rendimiento"):
        answer = clients["sin_vinculo"].get(path)
        assert_error(answer, 403, "sin_permiso")
        assert "no está vinculado" in answer.json()["error"]["message"]


def test_a_command_is_seen_only_by_whoever_issued_it_and_staff(world, clients):
    own = clients["marca"].post(f"/api/v1/campanias/{world.campania_a}/pausar", {}, format="json")
    by_staff = clients["staff"].post(f"/api/v1/campanias/{world.campania_b}/pausar", {}, format="json")
    assert clients["marca"].get(f"/api/v1/comandos/{own.json()['command_id']}").status_code == 200
    assert_error(clients["marca"].get(f"/api/v1/comandos/{by_staff.json()['command_id']}"), 404)
    assert clients["staff"].get(f"/api/v1/comandos/{own.json()['command_id']}").status_code == 200
    assert CommandLog.objects.get(id=own.json()["command_id"]).issued_by.username == "usuaria-marca-a"


# --- the matrix covers every endpoint -------------------------------------------------------------

LISTS = {("clientes", "GET"), ("campanias", "GET"), ("pagos/cobros", "GET"), ("pagos/transacciones", "GET"),
         ("pagos/payouts", "GET"), ("pagos/ciclos", "GET"), ("reportes/rendimiento", "GET"),
         ("comandos/<uuid:command_id>", "GET"),
         # Their CSV exports: scoped as the lists, tests/api/test_exports_api.py and below.
         ("pagos/transacciones.csv", "GET"), ("pagos/payouts.csv", "GET")}


def api_routes():
    """(route, method) of every operation under /api/v1/, read from the URLconf and the views."""
    v1 = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/")
    found = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = pattern.callback.view_class
                for method in ("get", "post", "patch", "put", "delete"):
                    if hasattr(view, method):
                        found.add((prefix + str(pattern.pattern), method.upper()))

    walk(v1.url_patterns, "")
    return found


# Authenticated by the brand's postback secret, not by a user: tests/api/test_postbacks.py. Webhook
# endpoints, per role (each client its own): tests/api/test_webhooks_api.py.
NOT_BY_USER = {("pagos/postbacks", "POST"), ("pagos/postbacks", "GET")}
WEBHOOKS = {("webhooks", "GET"), ("webhooks", "POST"), ("webhooks/<uuid:id_endpoint>", "GET"),
            ("webhooks/<uuid:id_endpoint>", "PATCH"), ("webhooks/<uuid:id_endpoint>", "DELETE"),
            ("webhooks/<uuid:id_endpoint>/entregas", "GET"),
            ("webhooks/<uuid:id_endpoint>/entregas/<uuid:id_entrega>/reenviar", "POST"),
            ("webhooks/<uuid:id_endpoint>/reenviar", "POST")}


def test_the_matrix_covers_every_api_operation():
    covered = {(case.route, case.method) for case in CASES.values()} | LISTS | NOT_BY_USER | WEBHOOKS
    assert api_routes() == covered


# --- create_token ------------------------------------------------------------------------------


def test_create_token_links_a_user_to_a_client_with_a_role(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    output = StringIO()
    call_command("create_token", "integracion-marca-a", "--cliente", str(world.marca_a), "--rol", "marca", stdout=output)
    key = output.getvalue().strip()
    link = UsuarioCliente.objects.get(user__username="integracion-marca-a")
    assert (link.id_cliente, link.rol, Token.objects.get(user=link.user).key) == (world.marca_a, "marca", key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert ids(client.get("/api/v1/campanias")) == {world.campania_a}

    with pytest.raises(CommandError, match="No existe el cliente"):
        call_command("create_token", "otra", "--cliente", str(uuid.uuid4()), "--rol", "socio")
    with pytest.raises(CommandError, match="no se combina"):
        call_command("create_token", "otra", "--staff", "--cliente", str(world.marca_a), "--rol", "marca")
    with pytest.raises(CommandError, match="van juntos"):
        call_command("create_token", "otra", "--rol", "socio")
    assert not UsuarioCliente.objects.filter(user__username="otra").exists()
