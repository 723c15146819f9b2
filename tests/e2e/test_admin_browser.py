"""The admin's campaign page in a real headless browser (Debian's chromium and chromedriver, which
scripts/services.sh installs): staff log in through the login form, and the page draws the
campaign's charts with no JavaScript error. A missing browser fails the test, never skips it."""

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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, read after each page
    # The system's chromedriver, named: selenium never looks for (or downloads) one of its own.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    """Script errors and failed loads (a missing admin script or style counts); not /favicon.ico,
    which the browser asks for by itself and the admin names none of."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not entry["message"].split(" ", 1)[0].endswith("/favicon.ico")]


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
    browser.get(f"{live_server.url}/admin/login/?next={page}")
    browser.find_element(By.ID, "id_username").send_keys("operadora")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    clicks = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "grafico-clicks")))

    # then the page is the campaign's, and each chart is drawn: 30 bars, today's the tallest, titled with its value
    assert browser.current_url == f"{live_server.url}{page}"
    assert campania.nombre in browser.page_source
    for svg_id, titulo, hoy_dice in [("grafico-clicks", "Clicks por día", "3"),
                                     ("grafico-conversiones", "Conversiones por día", "1"),
                                     ("grafico-comisiones-COP", "Comisiones por día (COP)", "1000.00 COP")]:
        svg = browser.find_element(By.ID, svg_id)
        assert svg.get_attribute("aria-label") == titulo
        assert svg.is_displayed() and svg.size["width"] == 360 and svg.size["height"] == 120
        bars = svg.find_elements(By.TAG_NAME, "rect")
        assert len(bars) == 30
        titles = [bar.find_element(By.TAG_NAME, "title").get_attribute("textContent") for bar in bars]
        assert titles[-1] == f"{hoy:%Y-%m-%d}: {hoy_dice}" and titles[0].endswith(": 0" if svg_id != "grafico-comisiones-COP"
                                                                                 else ": 0.00 COP")
        assert bars[-1].size["height"] == 120 and bars[0].size["height"] == 0  # as rendered by the browser
    heading = clicks.find_element(By.XPATH, "preceding-sibling::h2").text
    assert heading == "Clicks por día · últimos 30 días · total 3"
    assert console_errors(browser) == []
