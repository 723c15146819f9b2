"""A PostgreSQL connection of its own, in autocommit, beside Django's: what LISTEN needs (the relay
waits on it for outbox inserts, the webhooks dispatcher for new deliveries) and what holds a
session-level advisory lock."""

import psycopg
from django.db import connection


def autocommit_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)  # Django's own settings of its connection, not psycopg.connect's
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)
