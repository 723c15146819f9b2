"""Display helpers shared by every context's admin."""

import json

from django.utils.html import format_html


def pretty_json(value):
    if value is None:
        return "-"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="white-space: pre-wrap; margin: 0;">{}</pre>', text)
