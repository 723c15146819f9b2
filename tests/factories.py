"""Valid request bodies; tests change one field at a time."""

from datetime import date, timedelta

import factory


class ClienteNaturalBody(factory.DictFactory):
    tipo = "NATURAL"
    nombre = factory.Sequence(lambda n: f"Socia {n}")
    email = factory.Sequence(lambda n: f"socia{n}@correo.co")
    cedula = factory.Sequence(lambda n: f"{10_000_000 + n}")
    fecha_nacimiento = "1990-05-17"


class ClienteEmpresaBody(factory.DictFactory):
    tipo = "EMPRESA"
    nombre = factory.Sequence(lambda n: f"Marca {n} S.A.S.")
    email = factory.Sequence(lambda n: f"marca{n}@empresa.co")
    nit = "900123456-8"
    fecha_constitucion = "2012-01-31"


class CampaniaBody(factory.DictFactory):
    nombre = factory.Sequence(lambda n: f"Campaña {n}")
    presupuesto = factory.LazyFunction(lambda: {"valor": "1000000.00", "moneda": "COP"})
    fecha_inicio = factory.LazyFunction(lambda: date.today().isoformat())
    fecha_fin = factory.LazyFunction(lambda: (date.today() + timedelta(days=30)).isoformat())
