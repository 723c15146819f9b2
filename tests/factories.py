"""Valid request bodies; tests change one field at a time."""

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
