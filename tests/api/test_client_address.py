"""Every limit keyed by address (the API's throttles, the admin's login lockout) takes the address
from one function, which believes X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies of
ours wrote it; and the admin's login locks a user, or an address, after too many failures."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from alpespartners.client_address import client_address
from tests.api.test_clientes_api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_services")]

RATE = 5
PROXY = "10.0.0.1"


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "anon": f"{RATE}/minute",
                                                          "failed_authentication": f"{RATE}/minute"}}
    cache.clear()
    yield
    cache.clear()


def wrong_token(remote_address: str, forwarded_for: str):
    return APIClient(REMOTE_ADDR=remote_address, HTTP_X_FORWARDED_FOR=forwarded_for,
                     HTTP_AUTHORIZATION="Token " + "0" * 40).get("/api/v1/clientes")


def anonymous(remote_address: str, forwarded_for: str):
    return APIClient(REMOTE_ADDR=remote_address, HTTP_X_FORWARDED_FOR=forwarded_for).get("/api/schema/?format=json")


# (request, the answer while under the rate)
THROTTLED = {"failed_authentication": (wrong_token, 401), "anonymous": (anonymous, 200)}


def status_of(answer, under_rate: int) -> int:
    if answer.status_code == 429:
        assert_error(answer, 429, "demasiadas_peticiones")
    else:
        assert answer.status_code == under_rate, answer.content
    return answer.status_code


@pytest.mark.parametrize("throttle", THROTTLED)
def test_without_a_proxy_a_forged_forwarded_address_does_not_escape_the_limit(settings, low_rates, throttle):
    # given no proxy in front of the web process
    settings.TRUSTED_PROXY_COUNT = 0
    send, under_rate = THROTTLED[throttle]

    # when one client sends 40 requests, each claiming another address in X-Forwarded-For
    statuses = [status_of(send("127.0.0.20", f"198.51.100.{n}"), under_rate) for n in range(40)]

    # then its own address is what counts: 429 once over the rate
    assert statuses == [under_rate] * RATE + [429] * (40 - RATE)


@pytest.mark.parametrize("throttle", THROTTLED)
def test_behind_one_proxy_each_forwarded_client_has_its_own_limit(settings, low_rates, throttle):
    # given one proxy, which appends the address it received the request from
    settings.TRUSTED_PROXY_COUNT = 1
    send, under_rate = THROTTLED[throttle]

    # when one client goes over the rate, through the proxy
    statuses = [status_of(send(PROXY, "203.0.113.1"), under_rate) for _ in range(RATE + 1)]

    # then it is held back, and another client behind the same proxy is not
    assert statuses == [under_rate] * RATE + [429]
    assert status_of(send(PROXY, "203.0.113.2"), under_rate) == under_rate


@pytest.mark.parametrize("throttle", THROTTLED)
def test_behind_one_proxy_a_forged_leftmost_entry_does_not_escape_the_limit(settings, low_rates, throttle):
    # given one proxy, which appends the client's real address after whatever the client sent
    settings.TRUSTED_PROXY_COUNT = 1
    send, under_rate = THROTTLED[throttle]

    # when the client forges another address in X-Forwarded-For at every request
    statuses = [status_of(send(PROXY, f"198.51.100.{n}, 203.0.113.3"), under_rate) for n in range(RATE + 3)]

    # then the entry the proxy appended is what counts
    assert statuses == [under_rate] * RATE + [429] * 3


@pytest.mark.parametrize(("trusted_proxies", "forwarded_for", "expected"), [
    (0, "", "192.0.2.1"),
    (0, "203.0.113.9", "192.0.2.1"),  # no proxy: the header is the client's word
    (1, "", "192.0.2.1"),  # through no proxy of ours (a probe from inside)
    (1, "203.0.113.9", "203.0.113.9"),
    (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the client's own entry, on the left, is ignored
    (1, " 198.51.100.7 ,203.0.113.9 ", "203.0.113.9"),
    (2, "198.51.100.7, 203.0.113.9, 10.0.0.2", "203.0.113.9"),  # the outer proxy appended the client
    (3, "203.0.113.9, 10.0.0.2", "203.0.113.9"),  # fewer entries than proxies: the leftmost
    (1, "2001:DB8::9", "2001:db8::9"),
    (1, "203.0.113.9:4711", "192.0.2.1"),  # not an address: never a key
    (1, "unknown", "192.0.2.1"),
])
def test_client_address(settings, trusted_proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = trusted_proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_address(request) == expected


# --- admin login --------------------------------------------------------------

FAILURE_LIMIT = 3


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = FAILURE_LIMIT


@pytest.fixture
def operadora(django_user_model):
    return django_user_model.objects.create_user("operadora", password="la-correcta", is_staff=True)


def log_in(username: str, password: str, address: str, forwarded_for: str = ""):
    """A fresh browser each time: what locks is the user or the address, not a session."""
    browser = Client(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forwarded_for)
    answer = browser.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})
    return answer, browser


def logged_in(browser: Client) -> bool:
    return browser.get(reverse("admin:index")).status_code == 200


def assert_locked_out(answer, browser):
    assert answer.status_code == 429
    page = answer.content.decode()
    assert "Acceso bloqueado" in page and "Demasiados intentos fallidos de inicio de sesión" in page
    assert f"bloqueado tras {FAILURE_LIMIT} intentos" in page and "dentro de 15 minutos" in page
    assert "Traceback" not in page
    assert not logged_in(browser)


def test_the_right_password_logs_in(lockout, operadora):
    answer, browser = log_in("operadora", "la-correcta", "127.0.0.30")
    assert answer.status_code == 302 and logged_in(browser)


def test_a_user_with_too_many_failures_is_locked_out_even_with_the_right_password(lockout, operadora):
    # given wrong passwords for one user, up to the limit
    answers = [log_in("operadora", f"adivinanza-{n}", "127.0.0.31")[0] for n in range(FAILURE_LIMIT)]
    assert [answer.status_code for answer in answers] == [200] * (FAILURE_LIMIT - 1) + [429]

    # when the right password comes, from that address and from another one
    for address in ("127.0.0.31", "127.0.0.32"):
        answer, browser = log_in("operadora", "la-correcta", address)

        # then the login is refused, and the page says why
        assert_locked_out(answer, browser)


def test_an_address_trying_many_users_is_locked_out_whatever_it_forwards(settings, lockout, operadora):
    # given no proxy, and one address trying one password on many users, each time claiming another address
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(FAILURE_LIMIT):
        log_in(f"usuario-{n}", "verano2026", "127.0.0.33", forwarded_for=f"198.51.100.{n}")

    # when a real user logs in from that address
    answer, browser = log_in("operadora", "la-correcta", "127.0.0.33", forwarded_for="198.51.100.99")

    # then it is refused; from another address the same user logs in
    assert_locked_out(answer, browser)
    answer, browser = log_in("operadora", "la-correcta", "127.0.0.34")
    assert answer.status_code == 302 and logged_in(browser)


def test_behind_a_proxy_the_forwarded_address_is_the_one_locked_out(settings, lockout, operadora):
    # given one proxy, and one client behind it trying many users
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(FAILURE_LIMIT):
        log_in(f"usuario-{n}", "verano2026", PROXY, forwarded_for=f"198.51.100.{n}, 203.0.113.5")

    # then that client is locked out, not every client of the proxy
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    assert_locked_out(*log_in("operadora", "la-correcta", PROXY, forwarded_for="203.0.113.5"))
    answer, browser = log_in("operadora", "la-correcta", PROXY, forwarded_for="203.0.113.6")
    assert answer.status_code == 302 and logged_in(browser)


def test_an_operator_unlocks_a_user_from_the_admin(lockout, operadora, admin_client):
    # given a user locked out
    for n in range(FAILURE_LIMIT):
        log_in("operadora", f"adivinanza-{n}", "127.0.0.35")
    assert_locked_out(*log_in("operadora", "la-correcta", "127.0.0.35"))

    # when an operator finds its attempts in the back office and deletes them
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin_client.get(changelist, {"q": "operadora"})
    assert page.status_code == 200 and "operadora" in page.content.decode()
    attempts = list(AccessAttempt.objects.filter(username="operadora").values_list("pk", flat=True))
    assert attempts
    confirmed = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert confirmed.status_code == 302

    # then the right password logs in again
    assert not AccessAttempt.objects.filter(username="operadora").exists()
    answer, browser = log_in("operadora", "la-correcta", "127.0.0.35")
    assert answer.status_code == 302 and logged_in(browser)


def test_the_back_office_lists_the_login_attempts(admin_client):
    index = admin_client.get(reverse("admin:index")).content.decode()
    for model in ("accessattempt", "accesslog", "accessfailurelog"):
        assert reverse(f"admin:axes_{model}_changelist") in index
