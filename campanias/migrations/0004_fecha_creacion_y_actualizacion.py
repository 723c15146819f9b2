"""Timestamps named as everywhere (docs/ARCHITECTURE.md, Naming): fecha_creacion and fecha_actualizacion.
Columns renamed, data kept; the API still shows a campaign's `creada_en`."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('campanias', '0003_programas'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='campaniaview',
            options={'ordering': ['-fecha_creacion'], 'verbose_name': 'campaña'},
        ),
        migrations.AlterModelOptions(
            name='sagaaprobacionmodel',
            options={'ordering': ['-fecha_creacion'], 'verbose_name': 'saga de aprobación', 'verbose_name_plural': 'sagas de aprobación'},
        ),
        migrations.RenameField(
            model_name='campaniaview',
            old_name='actualizada_en',
            new_name='fecha_actualizacion',
        ),
        migrations.RenameField(
            model_name='campaniaview',
            old_name='creada_en',
            new_name='fecha_creacion',
        ),
        migrations.RenameField(
            model_name='sagaaprobacionmodel',
            old_name='actualizada_en',
            new_name='fecha_actualizacion',
        ),
        migrations.RenameField(
            model_name='sagaaprobacionmodel',
            old_name='creada_en',
            new_name='fecha_creacion',
        ),
        migrations.RenameField(
            model_name='snapshotcampania',
            old_name='created_at',
            new_name='fecha_actualizacion',
        ),
    ]
