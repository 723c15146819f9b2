"""docs/asyncapi.yaml, the asynchronous contract, against the code.

1. The document is well-formed AsyncAPI 3.0.0 as far as Python can check it: its version, the fields
   each kind of object may have, every $ref resolves, channels, operations and messages point at each
   other, and every schema is a valid JSON Schema (draft-07: what AsyncAPI 3.0.0 schemas are).
2. Each topic has a message for every type its context declares (integration.PUBLISHED, COMMANDS)
   and for no other, with the documented version and fields; the operations are what each context
   publishes, takes, sends (SENDS) and applies (its wiring's CONSUMES and BATCH_CONSUMES).
3. Every message the contexts really write validates: a journey through the REST API on PostgreSQL,
   with the in-process transport and commands run on commit, produces every event type of every
   context; each envelope in the outbox (events, and the commands campanias sends pagos) is validated
   against its message's payload and its Pulsar properties against its headers. Every command logged
   on the way (every type of every COMMANDS) is validated as a command message with that `data`.
"""

import copy
import dataclasses
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from alpespartners.messaging import contexts, in_process, pulsar_transport
from alpespartners.messaging.models import CommandLog, OutboxMessage
from cliente.domain import digito_verificacion_nit
from tests import events
from tests.factories import CampaniaBody, ClienteEmpresaBody, ClienteNaturalBody

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
DOCUMENT_URI = "urn:alpespartners:asyncapi"  # the document's base URI for the payloads' local $refs

# The fields each kind of AsyncAPI 3.0.0 object may have (besides x- extensions): a misspelt field
# would otherwise be ignored by every tool without a word.
FIELDS = {
    "document": {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations", "components"},
    "info": {"title", "version", "description", "termsOfService", "contact", "license", "tags", "externalDocs"},
    "server": {"host", "protocol", "protocolVersion", "pathname", "description", "title", "summary", "variables",
               "security", "tags", "externalDocs", "bindings"},
    "channel": {"address", "messages", "title", "summary", "description", "servers", "parameters", "tags",
                "externalDocs", "bindings"},
    "operation": {"action", "channel", "title", "summary", "description", "security", "tags", "externalDocs",
                  "bindings", "traits", "messages", "reply"},
    "message": {"headers", "payload", "correlationId", "contentType", "name", "title", "summary", "description",
                "tags", "externalDocs", "bindings", "examples", "traits"},
    "messageTrait": {"headers", "correlationId", "contentType", "name", "title", "summary", "description", "tags",
                     "externalDocs", "bindings", "examples"},
    "components": {"schemas", "servers", "channels", "operations", "messages", "securitySchemes", "serverVariables",
                   "parameters", "correlationIds", "replies", "replyAddresses", "externalDocs", "tags",
                   "operationTraits", "messageTraits", "serverBindings", "channelBindings", "operationBindings",
                   "messageBindings"},
    "tag": {"name", "description", "externalDocs"},
    "correlationId": {"description", "location"},
}
REQUIRED = {"document": {"asyncapi", "info"}, "info": {"title", "version"}, "server": {"host", "protocol"},
            "operation": {"action", "channel"}, "tag": {"name"}, "correlationId": {"location"}}


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


# --- reading the document ---------------------------------------------------------------


def resolve(document: dict, ref: str):
    """A local reference (`#/a/b`) to what it points at; KeyError if it points at nothing."""
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(document: dict, node):
    return resolve(document, node["$ref"]) if isinstance(node, dict) and "$ref" in node else node


def references(node, path="#"):
    """Every (where, $ref) in the document."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield path, node["$ref"]
        for key, value in node.items():
            yield from references(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from references(value, f"{path}/{index}")


def channel_by_address(document: dict, address: str) -> tuple[str, dict]:
    [found] = [(key, channel) for key, channel in document["channels"].items() if channel["address"] == address]
    return found


def message(document: dict, address: str, type: str) -> dict:
    _, channel = channel_by_address(document, address)
    return deref(document, channel["messages"][type])


def message_ref(document: dict, address: str, type: str) -> str:
    _, channel = channel_by_address(document, address)
    return channel["messages"][type]["$ref"]


def headers(document: dict, message_object: dict) -> dict:
    """The message's headers, its traits' applied first (AsyncAPI's traits merge)."""
    merged = {}
    for trait in message_object.get("traits", []):
        merged.update(deref(document, trait))
    merged.update(message_object)
    return merged["headers"]


def registry(document: dict) -> Registry:
    return Registry().with_resource(DOCUMENT_URI, Resource(contents=document, specification=DRAFT7))


def validator(document: dict, schema_ref: str) -> Draft7Validator:
    """A validator of the schema at `schema_ref` (a local reference), whose own $refs resolve in the document.
    Formats are asserted (uuid, date, email); date-time has no checker installed, its pattern does it."""
    return Draft7Validator({"$ref": DOCUMENT_URI + schema_ref}, registry=registry(document),
                           format_checker=FormatChecker())


def errors(validator: Draft7Validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(instance)]


def data_schema(payload: dict) -> dict:
    """The `data` schema of a message's payload (`allOf: [envelope, {properties: {type, version, data}}]`)."""
    [own] = [part for part in payload["allOf"] if "$ref" not in part]
    return own["properties"]["data"]


def topics() -> list[tuple[str, str, set[str]]]:
    """(context, topic, the types it declares there) for every topic of every context."""
    found = []
    for context in settings.BOUNDED_CONTEXTS:
        module = contexts.integration(context)
        found += [(context, topic, declared) for topic, declared in (
            (module.TOPIC, set(module.PUBLISHED)), (module.COMMAND_TOPIC, set(module.COMMANDS)))
            if topic is not None]  # webhooks publishes nothing and takes no command
    return found


# --- 1. well-formed AsyncAPI 3.0.0 ----------------------------------------------------


def test_the_document_is_asyncapi_3_0_0_and_each_object_has_only_its_fields(document):
    assert document["asyncapi"] == "3.0.0"

    def check(kind: str, node: dict, where: str):
        assert isinstance(node, dict), where
        unknown = {key for key in node if not key.startswith("x-")} - FIELDS[kind]
        assert not unknown, f"{where}: not a field of a {kind} object: {sorted(unknown)}"
        missing = REQUIRED.get(kind, set()) - set(node)
        assert not missing, f"{where}: missing {sorted(missing)}"

    check("document", document, "#")
    check("info", document["info"], "#/info")
    check("components", document["components"], "#/components")
    for name, server in document["servers"].items():
        check("server", server, f"#/servers/{name}")
        assert server["protocol"] == "pulsar" and ":" in server["host"] and "://" not in server["host"]
    for name, channel in document["channels"].items():
        check("channel", channel, f"#/channels/{name}")
    for name, operation in document["operations"].items():
        check("operation", operation, f"#/operations/{name}")
        assert operation["action"] in ("send", "receive"), name
    for name, item in document["components"]["messages"].items():
        check("message", item, f"#/components/messages/{name}")
    for name, trait in document["components"]["messageTraits"].items():
        check("messageTrait", trait, f"#/components/messageTraits/{name}")
    for name, tag in document["components"]["tags"].items():
        check("tag", tag, f"#/components/tags/{name}")
    for name, correlation in document["components"]["correlationIds"].items():
        check("correlationId", correlation, f"#/components/correlationIds/{name}")
        assert correlation["location"].startswith("$message.payload#/"), name
    for name, bindings in document["components"]["channelBindings"].items():
        binding = bindings["pulsar"]
        assert binding["persistence"] in ("persistent", "non-persistent") and binding["namespace"], name


def test_every_reference_resolves_and_stands_alone(document):
    refs = list(references(document))
    assert len(refs) > 100
    for where, ref in refs:
        try:
            resolve(document, ref)
        except (KeyError, IndexError, ValueError):
            pytest.fail(f"{where}: {ref} points at nothing")
        # A Reference Object has nothing beside $ref (anything there is ignored: a description goes in allOf).
        parent = resolve(document, where)
        assert set(parent) == {"$ref"}, f"{where}: keys beside $ref are ignored: {sorted(set(parent) - {'$ref'})}"


def test_channels_operations_and_messages_point_at_each_other(document):
    used_messages, used_channels = set(), set()
    for key, channel in document["channels"].items():
        assert channel["servers"], key
        for server in channel["servers"]:
            assert server["$ref"].startswith("#/servers/"), key
        for name, item in channel["messages"].items():
            assert item["$ref"] == f"#/components/messages/{name}", (key, name)
            used_messages.add(name)
    for key, operation in document["operations"].items():
        channel_ref = operation["channel"]["$ref"]
        assert channel_ref.startswith("#/channels/"), key
        channel = resolve(document, channel_ref)
        used_channels.add(channel_ref)
        assert operation["messages"], key
        for item in operation["messages"]:
            # an operation's messages are a subset of its channel's, referenced through the channel
            assert item["$ref"].startswith(channel_ref + "/messages/"), (key, item["$ref"])
            assert item["$ref"].rsplit("/", 1)[1] in channel["messages"], (key, item["$ref"])
        for tag in operation["tags"]:
            assert tag["$ref"].startswith("#/components/tags/"), key
    for name, item in document["components"]["messages"].items():
        assert item["name"] == name
        for trait in item.get("traits", []):
            assert trait["$ref"].startswith("#/components/messageTraits/"), name
    assert used_messages == set(document["components"]["messages"]), "messages no channel carries"
    assert used_channels == {f"#/channels/{key}" for key in document["channels"]}, "channels no operation uses"


def test_every_schema_is_a_valid_json_schema(document):
    components = document["components"]
    schemas = [(f"#/components/schemas/{name}", schema) for name, schema in components["schemas"].items()]
    for name, item in components["messages"].items():
        schemas.append((f"#/components/messages/{name}/payload", item["payload"]))
        schemas.append((f"#/components/messages/{name}/headers", headers(document, item)))
    for where, schema in schemas:
        try:
            Draft7Validator.check_schema(schema)
        except Exception as error:  # SchemaError, with the keyword at fault
            pytest.fail(f"{where}: {error}")
    for name, item in components["messages"].items():
        assert deref(document, headers(document, item))["type"] == "object", name  # AsyncAPI: headers are an object


# --- 2. every type, and no other, on the right topic -----------------------------------------


@pytest.mark.parametrize("context, topic, declared", topics(), ids=lambda value: value if isinstance(value, str) else "")
def test_each_topic_has_a_message_for_every_type_its_context_declares_and_no_other(document, context, topic, declared):
    _, channel = channel_by_address(document, topic)
    assert set(channel["messages"]) == declared


def test_the_document_has_no_other_topic(document):
    assert {channel["address"] for channel in document["channels"].values()} == {topic for _, topic, _ in topics()}


@pytest.mark.parametrize("context", settings.BOUNDED_CONTEXTS)
def test_each_event_has_its_documented_version_and_fields(document, context):
    module = contexts.integration(context)
    for type, contract in module.PUBLISHED.items():
        payload = message(document, module.TOPIC, type)["payload"]
        [own] = [part for part in payload["allOf"] if "$ref" not in part]
        assert own["properties"]["type"] == {"const": type}
        assert own["properties"]["version"] == {"const": contract["version"]}, type
        data = data_schema(payload)
        assert set(data["properties"]) == set(data["required"]) == set(contract["data"]), type
        assert data["additionalProperties"] is False, type


@pytest.mark.parametrize("context", settings.BOUNDED_CONTEXTS)
def test_each_command_has_its_fields_and_requires_those_without_a_default(document, context):
    module = contexts.integration(context)
    for type, command_class in module.COMMANDS.items():
        payload = message(document, module.COMMAND_TOPIC, type)["payload"]
        data = data_schema(payload)
        if "$ref" in data:
            data = resolve(document, data["$ref"])
        fields = dataclasses.fields(command_class)
        assert set(data["properties"]) == {field.name for field in fields}, type
        required = {field.name for field in fields
                    if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING}
        assert set(data["required"]) == required, type


def test_the_operations_are_what_each_context_publishes_takes_sends_and_applies(document):
    expected = {}
    for context in settings.BOUNDED_CONTEXTS:
        module, wiring = contexts.integration(context), contexts.wiring(context)
        if module.TOPIC is not None:
            expected[(context, "send", module.TOPIC)] = set(module.PUBLISHED)
        if module.COMMAND_TOPIC is not None:
            expected[(context, "receive", module.COMMAND_TOPIC)] = set(module.COMMANDS)
        for topic, sent in getattr(module, "SENDS", {}).items():
            expected[(context, "send", topic)] = set(sent)
        for topic in set(wiring.CONSUMES) | set(getattr(wiring, "BATCH_CONSUMES", {})):
            expected[(context, "receive", topic)] = set(contexts.consumed_types(context, topic))
    found = {}
    for key, operation in document["operations"].items():
        [context] = [resolve(document, tag["$ref"])["name"] for tag in operation["tags"]]
        address = resolve(document, operation["channel"]["$ref"])["address"]
        identity = (context, operation["action"], address)
        assert identity not in found, f"{key}: a second operation for {identity}"
        found[identity] = {item["$ref"].rsplit("/", 1)[1] for item in operation["messages"]}
    assert found == expected


# --- 3. what the contexts really write validates ---------------------------------------------

WAIT = {"HTTP_PREFER": "wait=10"}


@pytest.fixture
def postgresql():
    """The journey runs where `make test` runs it; without PostgreSQL it fails (never skips), as conftest says."""
    if not settings.USING_POSTGRESQL:
        pytest.fail("DATABASE_URL (PostgreSQL) missing — run `make test`", pytrace=False)


@pytest.fixture
def in_process_transport(settings):
    """Committed outbox rows go straight to the local consumers (alpespartners/messaging/in_process.py),
    whatever PULSAR_URL the run has: the whole journey happens in this process. Payouts from 10.00 COP."""
    settings.PULSAR_URL = ""
    settings.PAGOS_MONTOS_MINIMOS = {"COP": Decimal("10.00")}
    return settings


def answered(response) -> dict:
    assert response.status_code in (200, 201), (response.status_code, response.content[:500])
    return response.json()


def nit() -> str:
    numero = f"{uuid.uuid4().int % 100_000_000 + 800_000_000}"
    return f"{numero}-{digito_verificacion_nit(numero)}"


def cliente(api, body: dict, token: str | None) -> str:
    id_cliente = answered(api.post("/api/v1/clientes", body, format="json", **WAIT))["id"]
    if token:
        medio = {"tipo": "TARJETA", "token": token, "mascara": "**** 4242", "predeterminado": True}
        answered(api.post(f"/api/v1/clientes/{id_cliente}/medios-pago", medio, format="json", **WAIT))
    return id_cliente


def campania(api, id_marca: str, presupuesto: str, **fields) -> dict:
    body = CampaniaBody(id_cliente=id_marca, presupuesto={"valor": presupuesto, "moneda": "COP"}, dias_retencion=0,
                        fecha_inicio=(date.today() - timedelta(days=2)).isoformat(), **fields)
    return answered(api.post("/api/v1/campanias", body, format="json", **WAIT))


def conversion(api, id_campania: str, id_socio: str, id_externo: str, tipo: str = "VENTA", monto: str | None = None):
    body = {"id_externo": id_externo, "id_campania": id_campania, "id_socio": id_socio, "tipo": tipo,
            "ocurrida_en": (timezone.now() - timedelta(minutes=1)).isoformat()}
    if monto:
        body["monto"] = {"valor": monto, "moneda": "COP"}
    return answered(api.post("/api/v1/pagos/conversiones", body, format="json", **WAIT))


def estado(api, id_campania: str) -> str:
    return answered(api.get(f"/api/v1/campanias/{id_campania}"))["estado"]


def journey(api) -> None:
    """Every event type of every context, through the REST API; commands run on commit, events reach
    the other contexts through the in-process transport."""
    # cliente: a brand that pays, one whose card is declined, two partners and one who leaves
    marca = cliente(api, ClienteEmpresaBody(nit=nit()), "tok_ok")  # ClienteRegistrado (EMPRESA), MedioPagoRegistrado
    marca_sin_fondos = cliente(api, ClienteNaturalBody(), "tok_rechazado")  # ClienteRegistrado (NATURAL)
    socia = cliente(api, ClienteNaturalBody(), "tok_ok")
    socio_sin_fondos = cliente(api, ClienteNaturalBody(), "tok_rechazado")
    de_paso = cliente(api, ClienteNaturalBody(), None)
    answered(api.patch(f"/api/v1/clientes/{socia}", {"nombre": "Socia Renombrada"}, format="json", **WAIT))
    answered(api.post(f"/api/v1/clientes/{de_paso}/suspender", {"motivo": "revisión"}, format="json", **WAIT))
    answered(api.post(f"/api/v1/clientes/{de_paso}/reactivar", {}, format="json", **WAIT))

    # campanias: a campaign charged at once (CobrarCampania → PagoConfirmado → CampaniaAprobada)
    id_campania = campania(api, marca, "100.00", url_destino="https://tienda.co/oferta")["id"]
    assert estado(api, id_campania) == "APROBADA"
    base = f"/api/v1/campanias/{id_campania}"
    answered(api.patch(base, {"ventana_atribucion_dias": 7}, format="json", **WAIT))  # CampaniaActualizada
    for id_socio in (socia, socio_sin_fondos, de_paso):  # SocioInscrito, EnlaceCreado
        answered(api.post(f"{base}/socios", {"id_socio": id_socio}, format="json", **WAIT))
    answered(api.delete(f"{base}/socios/{de_paso}", **WAIT))  # SocioRetirado
    answered(api.post(f"{base}/pausar", {"motivo": "revisión"}, format="json", **WAIT))
    answered(api.post(f"{base}/reanudar", {}, format="json", **WAIT))

    # another system asks campanias for missing links on comandos.campanias, with only the keys required
    command_id = uuid.uuid4()
    events.deliver("campanias", "comandos.campanias", minimal_command(command_id, "CrearEnlacesFaltantes", {
        "id_campania": id_campania}))
    assert CommandLog.objects.get(id=command_id).status == "COMPLETADO"

    # pagos: commissions with and without the conversion's amount, a batch, then a payout cycle
    conversion(api, id_campania, socia, "venta-1", monto="400.00")  # ComisionRegistrada, 20.00
    conversion(api, id_campania, socia, "click-1", tipo="CLICK")  # 0.10, monto_conversion null
    lote = {"conversiones": [{"id_externo": "venta-2", "id_campania": id_campania, "id_socio": socio_sin_fondos,
                              "tipo": "VENTA", "monto": {"valor": "400.00", "moneda": "COP"},
                              "ocurrida_en": (timezone.now() - timedelta(minutes=1)).isoformat()}]}
    answered(api.post("/api/v1/pagos/conversiones/lote", lote, format="json", **WAIT))
    id_ciclo = answered(api.post("/api/v1/pagos/ciclos", {}, format="json", **WAIT))["id"]
    payouts = answered(api.get("/api/v1/pagos/payouts", {"ciclo": id_ciclo}))["results"]
    assert sorted(payout["estado"] for payout in payouts) == ["EXITOSO", "FALLIDO"], payouts
    [fallido] = [payout for payout in payouts if payout["estado"] == "FALLIDO"]
    answered(api.post(f"/api/v1/pagos/payouts/{fallido['id']}/reintentar", {}, format="json", **WAIT))
    revertir = "/api/v1/pagos/conversiones/revertir"
    # a paid commission reverted: ComisionRevertida with its negative adjustment
    answered(api.post(revertir, {"id_campania": id_campania, "id_externo": "venta-1", "motivo": "devolución"},
                      format="json", **WAIT))
    # one not paid yet: no adjustment
    conversion(api, id_campania, socia, "venta-3", monto="100.00")
    answered(api.post(revertir, {"id_campania": id_campania, "id_externo": "venta-3", "motivo": "fraude"},
                      format="json", **WAIT))
    answered(api.post(f"{base}/finalizar", {"motivo": "fin de temporada"}, format="json", **WAIT))

    # a budget spent to the cent: PresupuestoAgotado, and campanias pauses the campaign
    pequenia = campania(api, marca, "10.00")["id"]
    answered(api.post(f"/api/v1/campanias/{pequenia}/socios", {"id_socio": socia}, format="json", **WAIT))
    conversion(api, pequenia, socia, "venta-grande", monto="200.00")  # 5 %: 10.00
    assert estado(api, pequenia) == "PAUSADA"

    # a declined charge cancels its campaign (PagoRechazado → CampaniaCancelada)
    rechazada = campania(api, marca_sin_fondos, "50.00")["id"]
    assert estado(api, rechazada) == "CANCELADA"

    # an operator refunds a confirmed charge (PagoRevertido): its campaign is cancelled
    revertida = campania(api, marca, "50.00")["id"]
    [cobro] = answered(api.get("/api/v1/pagos/cobros", {"id_campania": revertida}))["results"]
    answered(api.post(f"/api/v1/pagos/cobros/{cobro['id']}/revertir", {"motivo": "contracargo"}, format="json",
                      **WAIT))
    assert estado(api, revertida) == "CANCELADA"


def late_charge_refunded(api, marca: str, transport_settings) -> None:
    """The saga's RevertirPago: messages stop flowing (PULSAR_URL set and no relay: rows wait in the
    outbox) while a brand creates a campaign and cancels it; when they flow again, pagos charges it,
    campanias hears of the confirmation after the cancellation and asks pagos for the refund."""
    transport_settings.PULSAR_URL = "pulsar://127.0.0.1:6650"  # only its being set matters: nothing connects
    id_campania = campania(api, marca, "30.00")["id"]
    answered(api.post(f"/api/v1/campanias/{id_campania}/cancelar", {"motivo": "la marca se arrepintió"},
                      format="json", **WAIT))
    transport_settings.PULSAR_URL = ""
    waiting = list(OutboxMessage.objects.filter(published_at__isnull=True).values_list("event_id", flat=True))
    assert len(waiting) == 3  # CampaniaCreada, CobrarCampania, CampaniaCancelada
    in_process.deliver(waiting)
    assert OutboxMessage.objects.filter(topic="comandos.pagos", type="RevertirPago").exists()
    assert answered(api.get("/api/v1/pagos/cobros", {"id_campania": id_campania}))["results"][0]["estado"] == "REVERTIDO"


def minimal_command(command_id: uuid.UUID, type: str, data: dict) -> dict:
    """A command as another system may send it: only the keys the receiver requires."""
    return {"id": str(command_id), "type": type, "aggregate_id": data.get("id_campania", str(command_id)), "data": data}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql", "eager_commands")
def test_every_event_and_command_the_contexts_write_validates_against_the_document(api, document,
                                                                                  in_process_transport):
    journey(api)
    late_charge_refunded(api, cliente(api, ClienteEmpresaBody(nit=nit()), "tok_ok"), in_process_transport)

    problems = []
    seen: dict[str, set[str]] = {}
    for row in OutboxMessage.objects.order_by("id"):
        seen.setdefault(row.topic, set()).add(row.type)
        try:
            item = message(document, row.topic, row.type)
        except (KeyError, ValueError):
            problems.append(f"{row.topic} {row.type}: no message in the document")
            continue
        ref = message_ref(document, row.topic, row.type)
        for problem in errors(validator(document, ref + "/payload"), row.envelope):
            problems.append(f"{row.topic} {row.type} {row.event_id}: {problem}")
        properties = pulsar_transport.properties(row.envelope, row.id)  # what the relay sends with it
        header_schema = headers(document, item)
        for problem in errors(validator(document, header_schema["$ref"]), properties):
            problems.append(f"{row.topic} {row.type} {row.event_id} properties: {problem}")
    assert not problems, "\n".join(problems)

    # every event type of every context was written, and the commands campanias sends
    for context in settings.BOUNDED_CONTEXTS:
        module = contexts.integration(context)
        assert seen.get(module.TOPIC, set()) == set(module.PUBLISHED), context
        for topic, sent in getattr(module, "SENDS", {}).items():
            assert seen.get(topic, set()) == set(sent), (context, topic)
    # and the nullable fields were written both ways
    for type, field in [("ClienteRegistrado", "fecha_nacimiento"), ("ClienteRegistrado", "fecha_constitucion"),
                        ("CampaniaCreada", "url_destino"), ("ComisionRegistrada", "monto_conversion"),
                        ("ComisionRevertida", "ajuste")]:
        values = [row.envelope["data"][field] for row in OutboxMessage.objects.filter(type=type)]
        assert None in values and any(value is not None for value in values), (type, field)

    # every command logged (from the API or from a topic) is a valid command message with its payload as `data`
    logged = {}
    for entry in CommandLog.objects.order_by("created_at"):
        module = contexts.integration(entry.context)
        if entry.type not in module.COMMANDS:
            continue  # a context's own scheduled work (VencerSaga, EnviarPayout...), never on a topic
        logged.setdefault(entry.context, set()).add(entry.type)
        envelope = {"id": str(entry.id), "type": entry.type, "aggregate_id": str(entry.resource_id or entry.id),
                    "correlation_id": str(entry.correlation_id), "data": entry.payload}
        ref = message_ref(document, module.COMMAND_TOPIC, entry.type)
        problems += [f"{entry.context} {entry.type} {entry.id}: {problem}"
                     for problem in errors(validator(document, ref + "/payload"), envelope)]
    assert not problems, "\n".join(problems)
    for context in settings.BOUNDED_CONTEXTS:
        assert logged.get(context, set()) == set(contexts.integration(context).COMMANDS), context


def test_the_schemas_refuse_what_the_contexts_would_not_write(document):
    """The validation above can fail: a few envelopes each broken in one way are refused."""
    good = events.envelope("PagoConfirmado", uuid.uuid4(), {
        "id_campania": str(uuid.uuid4()), "id_cliente": str(uuid.uuid4()),
        "monto": {"valor": "1000.00", "moneda": "COP"}, "confirmacion": "sim_ch_1"})
    check = validator(document, message_ref(document, "eventos.pagos", "PagoConfirmado") + "/payload")
    assert errors(check, good) == []
    for breaking in (
        lambda envelope: envelope["data"]["monto"].update(valor=1000.0),  # money as a JSON number
        lambda envelope: envelope["data"]["monto"].update(moneda="pesos"),
        lambda envelope: envelope["data"].pop("confirmacion"),
        lambda envelope: envelope["data"].update(extra="x"),
        lambda envelope: envelope.update(type="PagoRechazado"),
        lambda envelope: envelope.update(version=2),
        lambda envelope: envelope.update(aggregate_id="not-a-uuid"),
        lambda envelope: envelope.update(occurred_at="30/11/2026"),
        lambda envelope: envelope.pop("causation_id"),
    ):
        broken = copy.deepcopy(good)
        breaking(broken)
        assert errors(check, broken), broken
