"""Every published integration event matches its documented contract (integration.PUBLISHED)."""

import dataclasses
import uuid
from datetime import date
from importlib import import_module

import pytest
from django.conf import settings

from alpespartners.messaging import contexts
from alpespartners.messaging.outbox import event_envelope
from alpespartners.seedwork.domain import DomainEvent
from cliente import domain

ENVELOPE_KEYS = {"id", "type", "version", "occurred_at", "aggregate_id", "correlation_id", "causation_id", "data"}


def published_event_classes(context: str):
    module = import_module(f"{context}.domain")
    return {
        name: value for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
    }


@pytest.mark.parametrize("context", settings.BOUNDED_CONTEXTS)
def test_every_domain_event_is_documented_with_its_fields_and_version(context):
    integration = contexts.integration(context)
    classes = published_event_classes(context)
    assert set(classes) == set(integration.PUBLISHED)
    for name, event_class in classes.items():
        contract = integration.PUBLISHED[name]
        own_fields = {field.name for field in dataclasses.fields(event_class)} - {"aggregate_id", "event_id", "occurred_at"}
        assert set(contract["data"]) == own_fields, name
        assert contract["version"] == event_class.version, name


@pytest.mark.parametrize("context", settings.BOUNDED_CONTEXTS)
def test_every_command_sent_to_another_context_is_one_it_accepts_with_those_fields(context):
    for topic, sent in getattr(contexts.integration(context), "SENDS", {}).items():
        receiver = next(name for name in settings.BOUNDED_CONTEXTS if contexts.integration(name).COMMAND_TOPIC == topic)
        accepted = contexts.integration(receiver).COMMANDS
        for type, fields in sent.items():
            assert type in accepted, (context, topic, type)
            assert set(fields) == {field.name for field in dataclasses.fields(accepted[type])}, (context, type)


def test_the_envelope_has_the_contract_shape_and_json_values():
    event = domain.ClienteRegistrado(
        aggregate_id=uuid.uuid4(), tipo="NATURAL", nombre="Lucía", email="l@c.co", tipo_documento="cedula",
        numero_documento="1234567", fecha_nacimiento=date(1990, 1, 1), fecha_constitucion=None, estado="ACTIVO",
    )
    correlation_id, causation_id = uuid.uuid4(), uuid.uuid4()
    envelope = event_envelope(event, correlation_id, causation_id)
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["occurred_at"].endswith("Z")
    assert envelope["data"]["fecha_nacimiento"] == "1990-01-01"
    assert envelope["correlation_id"] == str(correlation_id) and envelope["causation_id"] == str(causation_id)
