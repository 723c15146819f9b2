"""Throttles of the REST API (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]); a module of their own
because DRF imports them while it defines APIView, before any view module can be imported."""

from rest_framework import throttling
from rest_framework.settings import api_settings


class RatesFromSettings:
    """DRF binds its rates when the class is imported; these read them at each request instead,
    so settings (and tests) can change them."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class UserThrottle(RatesFromSettings, throttling.UserRateThrottle):
    pass


class AnonymousThrottle(RatesFromSettings, throttling.AnonRateThrottle):
    pass
