from django.db import migrations

from alpespartners.messaging.relay import install_notify_trigger


def forwards(apps, schema_editor):
    install_notify_trigger(schema_editor)


class Migration(migrations.Migration):
    """Wake the relay (LISTEN outbox_inserted) when outbox rows commit; PostgreSQL only."""

    dependencies = [("messaging", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
