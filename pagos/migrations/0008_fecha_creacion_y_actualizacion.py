"""Timestamps named as everywhere (docs/ARCHITECTURE.md, Naming): fecha_creacion and fecha_actualizacion.
Columns renamed, data kept; the API still shows a cycle's `iniciado_en`."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('pagos', '0007_programa_reenvio_de_payouts'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='payout',
            options={'ordering': ['-fecha_creacion']},
        ),
        migrations.RenameField(
            model_name='ciclopago',
            old_name='iniciado_en',
            new_name='fecha_creacion',
        ),
        migrations.RenameField(
            model_name='payout',
            old_name='actualizado_en',
            new_name='fecha_actualizacion',
        ),
        migrations.RenameField(
            model_name='payout',
            old_name='creado_en',
            new_name='fecha_creacion',
        ),
    ]
