"""OpenAPI post-processing: every operation documents the one error shape and, for commands,
the headers the contract gives them (DESIGN §5); operations are grouped by area for Swagger UI."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": {}},
            },
        }
    },
}

QUERY_ERRORS = {
    "400": "Filtros inválidos.",
    "401": "Sin token o token inválido.",
    "403": "El rol del usuario no permite esta operación (o el usuario no está vinculado a un cliente).",
    "404": "No existe, o no es visible para quien pregunta.",
    "429": "Demasiadas peticiones: espere los segundos que indica `Retry-After`.",
    "503": "La base de datos no está disponible (un reinicio, por ejemplo): reintente tras `Retry-After`; "
           "no se registró nada.",
}
COMMAND_ERRORS = {
    **QUERY_ERRORS,
    "400": "Datos inválidos o JSON mal formado; no se registró nada.",
    "409": "La Idempotency-Key ya se usó con otra petición.",
    "413": "El cuerpo de la petición supera el límite; no se leyó.",
    "415": "El cuerpo no es `application/json`.",
    "422": "Con `Prefer: wait=N`: el comando fue rechazado por una regla de negocio.",
}
COMMAND_HEADERS = {
    "Idempotency-Key": ("Misma clave y cuerpo ⇒ misma respuesta; misma clave y otro cuerpo ⇒ 409. "
                        "ASCII visible: sin espacios ni caracteres de control.",
                        {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"}),
    "Prefer": ("`wait=N` (N ≤ 10): espera hasta N s y, si terminó, responde 201/200 con el recurso.",
               {"type": "string"}),
    "X-Correlation-ID": ("UUID que acompaña al comando, a todos los eventos que cause y a sus líneas de log; "
                         "se devuelve en la respuesta.", {"type": "string"}),
}
COMMAND_METHODS = {"post", "put", "patch", "delete"}


def add_contract_details(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            is_command = method in COMMAND_METHODS
            for code, description in (COMMAND_ERRORS if is_command else QUERY_ERRORS).items():
                operation["responses"].setdefault(code, {"description": description, "content": error_content})
            if is_command:
                parameters = operation.setdefault("parameters", [])
                present = {(parameter["in"], parameter["name"]) for parameter in parameters}
                parameters += [
                    {"in": "header", "name": name, "required": False, "schema": schema, "description": text}
                    for name, (text, schema) in COMMAND_HEADERS.items()
                    if ("header", name) not in present
                ]
    return result


# The area of each path (first match), as Swagger UI groups operations; the tags' order and
# descriptions are SPECTACULAR_SETTINGS["TAGS"].
AREAS = [
    ("/api/v1/clientes/{id_cliente}/secreto-postback", "conversiones"),
    ("/api/v1/clientes", "clientes"),
    ("/api/v1/campanias", "campañas"),
    ("/api/v1/pagos/cobros", "cobros"),
    ("/api/v1/pagos/conversiones", "conversiones"),
    ("/api/v1/pagos/postbacks", "conversiones"),
    ("/api/v1/pagos/transacciones", "conversiones"),
    ("/api/v1/pagos/ciclos", "payouts"),
    ("/api/v1/pagos/payouts", "payouts"),
    ("/api/v1/reportes", "reportes"),
    ("/api/v1/webhooks", "webhooks"),
    ("/api/v1/comandos", "comandos"),
]
TOKEN_DESCRIPTION = (
    "Escriba la palabra `Token`, un espacio y su clave: `Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b` "
    "(`python manage.py create_token <usuario>` la imprime; `make demo` muestra las suyas al arrancar). "
    "Solo la clave, sin `Token `, responde 401."
)


def group_by_area(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        area = next((area for prefix, area in AREAS if path.startswith(prefix)), None)
        if area is None:
            raise ValueError(f"{path} belongs to no area of alpespartners/api_schema.AREAS")
        for operation in operations.values():
            operation["tags"] = [area]
    schemes = result.get("components", {}).get("securitySchemes", {})
    if "tokenAuth" in schemes:
        schemes["tokenAuth"]["description"] = TOKEN_DESCRIPTION
    return result
