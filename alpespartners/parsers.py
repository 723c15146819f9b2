"""The request-body parser every API view uses (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES). Its own
module: rest_framework.views imports the parser when it is first imported, so the parser's module must
not import rest_framework.views itself (alpespartners.api does)."""

import re

from rest_framework import exceptions, parsers

# The contract's deepest body is 4 levels (a batch's conversion's monto); 64 leaves room for any
# future shape. Python's parser overflows its recursion at a few thousand levels.
MAX_JSON_DEPTH = 64
TOO_DEEP = f"El JSON anida más de {MAX_JSON_DEPTH} niveles de objetos o listas."
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictJSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 (json_invalido) two things JSON's grammar allows but
    nothing after it can handle: a lone UTF-16 surrogate (\\ud800) in a string or a key, which no UTF-8
    encoder writes (a validation message repeating it, the command log, PostgreSQL: a 500), and nesting
    deeper than MAX_JSON_DEPTH (a RecursionError, another 500). Part of parsing: no view ever sees either."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(TOO_DEEP) from None
        check_json(data)
        return data


def check_json(data) -> None:
    """Every string and key of a parsed body, iteratively (a recursive walk is what fails at depth)."""
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                raise exceptions.ParseError("El JSON contiene un sustituto UTF-16 sin pareja (\\ud800-\\udfff), "
                                            "que no es un carácter.")
        elif isinstance(value, (dict, list)):
            if depth == MAX_JSON_DEPTH:
                raise exceptions.ParseError(TOO_DEEP)
            children = [*value, *value.values()] if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
