"""A payout claims its commissions when it is first sent, no longer when its cycle calculates it.

The database numbers every commission at insert (`secuencia`): a sequence and a BEFORE INSERT
trigger on PostgreSQL (COPY fires it too), the row's rowid on SQLite, whose writers are serialised
anyway. A payout remembers what it covers (`pagable_antes_de`, `hasta_secuencia`) and at most one
payout per partner and currency is in flight."""

from datetime import datetime, time, timedelta

from django.db import migrations, models
from django.utils import timezone

POSTGRESQL_NUMERAR = """
CREATE SEQUENCE pagos_transaccion_secuencia;
WITH numeradas AS (
    SELECT id, nextval('pagos_transaccion_secuencia') AS numero
    FROM (SELECT id FROM pagos_transaccion ORDER BY fecha_creacion, id) en_orden
)
UPDATE pagos_transaccion SET secuencia = numeradas.numero FROM numeradas WHERE pagos_transaccion.id = numeradas.id;
CREATE FUNCTION pagos_numerar_transaccion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.secuencia := nextval('pagos_transaccion_secuencia');
    RETURN NEW;
END $$;
CREATE TRIGGER pagos_numerar_transaccion BEFORE INSERT ON pagos_transaccion
    FOR EACH ROW EXECUTE FUNCTION pagos_numerar_transaccion();
"""
POSTGRESQL_DESNUMERAR = """
DROP TRIGGER pagos_numerar_transaccion ON pagos_transaccion;
DROP FUNCTION pagos_numerar_transaccion();
DROP SEQUENCE pagos_transaccion_secuencia;
"""
# Django's SQLite schema editor rebuilds a table to alter it, which drops its triggers: a later
# migration that alters pagos_transaccion must create this one again.
SQLITE_NUMERAR = """
UPDATE pagos_transaccion SET secuencia = rowid;
CREATE TRIGGER pagos_numerar_transaccion AFTER INSERT ON pagos_transaccion
BEGIN
    UPDATE pagos_transaccion SET secuencia = NEW.rowid WHERE rowid = NEW.rowid;
END;
"""


def numerar(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_NUMERAR)
    elif vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.executescript(SQLITE_NUMERAR)


def desnumerar(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DESNUMERAR)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER pagos_numerar_transaccion")


def cobertura_de_los_payouts(apps, schema_editor):
    """Payouts calculated before this migration claimed their rows at once: those not sent yet give
    them back, so they claim them when sent like any other."""
    Payout = apps.get_model("pagos", "Payout")
    Transaccion = apps.get_model("pagos", "Transaccion")
    zona = timezone.get_current_timezone()
    for payout in Payout.objects.all():
        suyas = Transaccion.objects.filter(id_socio=payout.id_socio, id_payout=payout.id)
        payout.pagable_antes_de = datetime.combine(payout.fecha_corte + timedelta(days=1), time.min, tzinfo=zona)
        payout.hasta_secuencia = suyas.aggregate(hasta=models.Max("secuencia"))["hasta"] or 0
        payout.save(update_fields=["pagable_antes_de", "hasta_secuencia"])
        if payout.estado == "CALCULADO" and payout.intentos == 0:
            suyas.filter(estado="EN_PAYOUT").update(estado="PAGABLE", id_payout=None)


class Migration(migrations.Migration):

    dependencies = [
        ('pagos', '0005_transacciones_actualizables_en_sitio'),
    ]

    operations = [
        migrations.AddField(
            model_name='transaccion',
            name='secuencia',
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(numerar, desnumerar),
        migrations.AddField(
            model_name='payout',
            name='pagable_antes_de',
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name='payout',
            name='hasta_secuencia',
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(cobertura_de_los_payouts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='payout',
            name='pagable_antes_de',
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name='payout',
            name='hasta_secuencia',
            field=models.BigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name='payout',
            constraint=models.UniqueConstraint(condition=models.Q(('estado__in', ['CALCULADO', 'EN_PROCESO'])), fields=('id_socio', 'moneda'), name='pagos_un_payout_en_curso'),
        ),
    ]
