"""The admin in a real headless browser (Debian's chromium and chromedriver, which scripts/services.sh
installs): staff log in through the login form; the home, a failed payout and a campaign's page load
with no console error, no broken image and no HTTP error; each count on the home is the number of rows
of the list it links to; the campaign page draws its charts. Screenshots of the pages go to
docs/screenshots/ (the README shows them). A missing browser fails the test, never skips it."""

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests import factories
from tests.api.test_back_office import what_needs_attention
from tests.conftest import ROOT

pytestmark = [pytest.mark.real_services, pytest.mark.usefixtures("real_services")]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "una-clave-de-prueba"


@pytest.fixture
def browser():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(f"no browser to test with: {', '.join(missing)} missing — `make test` installs the chromium "
                    "and chromium-driver packages (scripts/services.sh)", pytrace=False)
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2000"):
        options.add_argument(argument)
    # the console and the network, read after each page
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The system's chromedriver, named: selenium never looks for (or downloads) one of its own.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    """Script errors and failed loads (a missing admin script, style or icon counts)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def http_errors(driver) -> list[str]:
    """Every response of status 400 or more the page received since the last call (its documents,
    scripts, styles and images)."""
    errors = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived" and message["params"]["response"]["status"] >= 400:
            errors.append(f'{message["params"]["response"]["status"]} {message["params"]["response"]["url"]}')
    return errors


def broken_images(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.images].filter(image => image.complete && image.naturalWidth === 0).map(image => image.src)")


def problems(driver) -> list[str]:
    return console_errors(driver) + http_errors(driver) + broken_images(driver)


def log_in(driver, live_server, page: str) -> None:
    driver.get(f"{live_server.url}/admin/login/?next={page}")
    driver.find_element(By.ID, "id_username").send_keys("operadora")
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def screenshot(driver, name: str) -> None:
    folder = ROOT / "docs" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / f"{name}.png"))


def test_an_operator_follows_the_home_s_counts_and_opens_a_failed_payout(live_server, browser, django_user_model):
    # given failed and paid payouts, commissions, a failed command, a dead letter, a disabled webhook endpoint
    django_user_model.objects.create_user("operadora", password=PASSWORD, is_staff=True, is_superuser=True)
    fallido = what_needs_attention()

    # when staff log in to the home
    log_in(browser, live_server, "/admin/")
    panel = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "atencion")))

    # then it loads clean, with what needs attention first, and each count is the rows its link lists
    assert problems(browser) == []
    browser.set_window_size(1280, 1100)
    screenshot(browser, "admin-inicio")
    enlaces = [(link.get_attribute("href"), int(link.text)) for link in panel.find_elements(By.CSS_SELECTOR, "a")]
    enlaces += [(link.get_attribute("href"), int(link.text))
                for table in ("payouts", "comisiones") for link in browser.find_elements(By.CSS_SELECTOR, f"#{table} a")]
    assert [count for _, count in enlaces[:4]] == [2, 1, 1, 1] and len(enlaces) == 7
    for url, count in enlaces:
        browser.get(url)
        rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == count, url
        assert problems(browser) == [], url

    # and a failed payout's page tells why it failed
    browser.get(f"{live_server.url}/admin/pagos/payout/{fallido.id}/change/")
    assert "Fondos insuficientes." in browser.page_source and "FALLIDO" in browser.page_source
    assert problems(browser) == []
    screenshot(browser, "admin-payout-fallido")


def test_the_campaign_page_draws_its_charts(live_server, browser, django_user_model):
    # given a campaign with today's 3 clicks, 1 sale and its 1000 COP commission
    django_user_model.objects.create_user("operadora", password=PASSWORD, is_staff=True, is_superuser=True)
    campania = factories.CampaniaViewFactory(id_cliente=uuid.uuid4())
    id_socio = uuid.uuid4()
    factories.ClickFactory.create_batch(3, id_campania=campania.id, id_socio=id_socio)
    factories.TransaccionFactory(id_campania=campania.id, id_socio=id_socio, comision=Decimal("1000"))
    hoy = timezone.localdate()
    page = f"/admin/campanias/campaniaview/{campania.id}/change/"

    # when staff log in and open the campaign's page
    log_in(browser, live_server, page)
    clicks = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "grafico-clicks")))

    # then the page is the campaign's, and each chart is drawn: 30 bars, today's the tallest, titled with its value
    assert browser.current_url == f"{live_server.url}{page}"
    assert campania.nombre in browser.page_source
    for svg_id, titulo, hoy_dice in [("grafico-clicks", "Clicks por día", "3"),
                                     ("grafico-conversiones", "Conversiones por día", "1"),
                                     ("grafico-comisiones-COP", "Comisiones por día (COP)", "1\xa0000,00 COP")]:
        svg = browser.find_element(By.ID, svg_id)
        assert svg.get_attribute("aria-label") == titulo
        assert svg.is_displayed() and svg.size["width"] == 360 and svg.size["height"] == 120
        bars = svg.find_elements(By.TAG_NAME, "rect")
        assert len(bars) == 30
        titles = [bar.find_element(By.TAG_NAME, "title").get_attribute("textContent") for bar in bars]
        assert titles[-1] == f"{hoy:%Y-%m-%d}: {hoy_dice}" and titles[0].endswith(": 0" if svg_id != "grafico-comisiones-COP"
                                                                                 else ": 0,00 COP")
        assert bars[-1].size["height"] == 120 and bars[0].size["height"] == 0  # as rendered by the browser
    heading = clicks.find_element(By.XPATH, "preceding-sibling::h2").text
    assert heading == "Clicks por día · últimos 30 días · total 3"
    assert problems(browser) == []
    screenshot(browser, "admin-campania")
