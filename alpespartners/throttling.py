"""Throttles of the REST API (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] and the token
authentication); a module of their own because DRF imports them while it defines APIView, before
any view module can be imported."""

import logging

from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from alpespartners.client_address import client_address

logger = logging.getLogger(__name__)


class RatesFromSettings:
    """DRF binds its rates when the class is imported; these read them at each request instead,
    so settings (and tests) can change them. If the cache that counts is unreachable the request
    passes (logged): throttling protects the API, it must not take it down."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            logger.warning("throttling skipped: cache unavailable (%s)", type(error).__name__)
            return True


class ByClientAddress:
    """DRF's get_ident believes any X-Forwarded-For when NUM_PROXIES is unset: a client could
    change its address at every request. Every address-keyed count goes through client_address."""

    def get_ident(self, request):
        return client_address(request)


class UserThrottle(ByClientAddress, RatesFromSettings, throttling.UserRateThrottle):
    pass


class AnonymousThrottle(ByClientAddress, RatesFromSettings, throttling.AnonRateThrottle):
    pass


class FailedAuthenticationThrottle(ByClientAddress, RatesFromSettings, throttling.SimpleRateThrottle):
    """Wrong tokens per client IP: DRF authenticates before it throttles, so without this a client
    could try tokens as fast as the server answers 401."""

    scope = "failed_authentication"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; an IP over its rate of wrong tokens gets 429 (Retry-After).
    The user's client link comes in the same query as the token (every view needs it)."""

    def authenticate_credentials(self, key):
        try:
            token = self.get_model().objects.select_related("user", "user__cliente_vinculado").get(key=key)
        except self.get_model().DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None  # DRF's messages, translated
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle = FailedAuthenticationThrottle()
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(throttle.wait()) from None
            raise
