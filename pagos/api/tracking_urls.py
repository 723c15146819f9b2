"""Tracking links, outside /api/v1/ (alpespartners/urls.py mounts them at /t/)."""

from django.urls import path, register_converter

from . import tracking


class Codigo:
    """campanias' codes are URL-safe base64 (~11 characters): anything else is a 404 without a lookup."""

    regex = "[A-Za-z0-9_-]{4,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Codigo, "codigo")

urlpatterns = [
    path("<codigo:codigo>", tracking.click, name="tracking-click"),
    path("<codigo:codigo>/i.gif", tracking.impresion, name="tracking-impresion"),
]
