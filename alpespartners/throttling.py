"""Throttles of the REST API (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] and the token
authentication); a module of their own because DRF imports them while it defines APIView, before
any view module can be imported."""

from rest_framework import authentication, exceptions, throttling
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


class FailedAuthenticationThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Wrong tokens per client IP: DRF authenticates before it throttles, so without this a client
    could try tokens as fast as the server answers 401."""

    scope = "failed_authentication"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; an IP over its rate of wrong tokens gets 429 (Retry-After)."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle = FailedAuthenticationThrottle()
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(throttle.wait()) from None
            raise
