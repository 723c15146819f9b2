"""The project's WSGI application plus one bare view, for bench/clicks.py only: GET /t-bare/{codigo}
answers the same redirect as /t/{codigo} — same middleware, same gunicorn — without looking the
link up or recording anything, so the two rates compare the cost of a recorded click."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alpespartners.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.ROOT_URLCONF = "bench.bare_urls"
application = get_wsgi_application()
