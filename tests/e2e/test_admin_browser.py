"""The admin in a real headless browser (Debian's chromium and chromedriver, which scripts/services.sh
installs): staff log in through the login form; the home, a failed payout and a campaign's page load
with no console error, no broken image and no HTTP error; each count on the home is the number of rows
of the list it links to; the campaign page draws its charts. Screenshots of the pages go to
docs/screenshots/ (the README shows them). A missing browser fails the test, never skips it."""

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import formats, timezone
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from campanias import models as campanias_models
from tests import factories
from tests.api.test_back_office import what_needs_attention
from tests.conftest import ROOT

# Commands run in-process (no worker here): the page's "Reintentar" is decided before its answer.
pytestmark = [pytest.mark.real_services, pytest.mark.usefixtures("real_services", "eager_commands")]

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
    # and its charts read without hovering: dates under the bars and the scale beside them, inside the chart
    grafico = browser.find_element(By.CSS_SELECTOR, 'svg[aria-label="Conversiones por día"]')
    textos = grafico.find_elements(By.TAG_NAME, "text")
    assert textos and all(texto.is_displayed() and texto.size["width"] > 0 for texto in textos)
    izquierda, derecha = grafico.rect["x"], grafico.rect["x"] + grafico.rect["width"]
    assert all(izquierda <= texto.rect["x"] and texto.rect["x"] + texto.rect["width"] <= derecha for texto in textos)
    hoy = timezone.localdate()
    fechas = [texto.text for texto in grafico.find_elements(By.CSS_SELECTOR, "text.eje-x")]
    assert fechas[0] == f"{hoy - timedelta(days=29):%d/%m}" and fechas[-1] == f"{hoy:%d/%m}"
    assert [texto.text for texto in grafico.find_elements(By.CSS_SELECTOR, "text.eje-y")] == ["0", "3"]
    enlaces = [(link.get_attribute("href"), int(link.text)) for link in panel.find_elements(By.CSS_SELECTOR, "a")]
    enlaces += [(link.get_attribute("href"), int(link.text))
                for table in ("payouts", "comisiones") for link in browser.find_elements(By.CSS_SELECTOR, f"#{table} a")]
    assert [count for _, count in enlaces[:4]] == [2, 1, 1, 1] and len(enlaces) == 7
    for url, count in enlaces:
        browser.get(url)
        rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == count, url
        assert problems(browser) == [], url

    # and the lists' amounts are right-aligned, their digits in columns
    browser.get(f"{live_server.url}/admin/pagos/payout/")
    alineados = browser.execute_script(
        "return [...document.querySelectorAll('#result_list .field-monto_display')]"  # a row's link is a th
        ".map(cell => getComputedStyle(cell).textAlign)")
    assert alineados == ["right"] * 3

    # and a failed payout's page tells its story: its partner by name, the gateway's refusal on its timeline
    browser.get(f"{live_server.url}/admin/pagos/payout/{fallido.id}/change/")
    assert browser.title.startswith("Payout de 12\u00a0500,50 COP a Ana Pérez (FALLIDO)")  # a no-break space
    assert browser.find_element(By.LINK_TEXT, "Ana Pérez").get_attribute("href").endswith(
        f"/admin/cliente/clienteview/{fallido.id_socio}/change/")
    assert pasos(browser) == [("Calculado", f"Ciclo del {formats.localize(fallido.fecha_corte)}: 3 transacciones, "
                                            "12 500,50 COP"),  # the text as read: a plain space
                              ("Intento 1: enviado a la pasarela", "al medio de pago **** 4242"),
                              ("Intento 1: rechazado por la pasarela", "fondos_insuficientes: Fondos insuficientes.")]
    assert problems(browser) == []
    screenshot(browser, "admin-payout-fallido")

    # when the operator presses "Reintentar" on the page, then it is paid and the timeline says so
    browser.find_element(By.ID, "reintentar-payout").click()
    WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert "Se emitió 1 comando ReintentarPayout" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    assert [que for que, _ in pasos(browser)][3:] == ["Reintento pedido", "Intento 2: enviado a la pasarela",
                                                      "Intento 2: pagado"]
    assert browser.find_elements(By.ID, "reintentar-payout") == []
    assert problems(browser) == []


def pasos(driver) -> list[tuple[str, str]]:
    """(qué, detalle) of each row of a payout page's timeline, as the operator reads them."""
    filas = driver.find_elements(By.CSS_SELECTOR, "table.linea-de-tiempo tr")[1:]
    return [tuple(celda.text for celda in fila.find_elements(By.TAG_NAME, "td")[1:]) for fila in filas]


def test_the_campaign_page_draws_its_charts(live_server, browser, django_user_model):
    # given a campaign with today's 3 clicks, 1 sale and its 1000 COP commission
    django_user_model.objects.create_user("operadora", password=PASSWORD, is_staff=True, is_superuser=True)
    # of a brand and with a partner campanias knows by name
    marca, id_socio = uuid.uuid4(), uuid.uuid4()
    for id_cliente, tipo, nombre in ((marca, "EMPRESA", "Marca Ejemplo S.A.S."), (id_socio, "NATURAL", "Ana Pérez")):
        campanias_models.ClienteLocal.objects.create(id=id_cliente, tipo=tipo, nombre=nombre, estado="ACTIVO")
    campania = factories.CampaniaViewFactory(id_cliente=marca, nombre="Verano 2026")
    campania.socios.create(id_socio=id_socio, inscrito_en=timezone.now())
    factories.ClickFactory.create_batch(3, id_campania=campania.id, id_socio=id_socio)
    factories.TransaccionFactory(id_campania=campania.id, id_socio=id_socio, comision=Decimal("1000"))
    hoy = timezone.localdate()
    page = f"/admin/campanias/campaniaview/{campania.id}/change/"

    # when staff log in and open the campaign's page
    log_in(browser, live_server, page)
    clicks = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "grafico-clicks")))

    # then the page is the campaign's, and each chart is drawn: 30 bars, today's the tallest, titled with its value
    assert browser.current_url == f"{live_server.url}{page}"
    assert browser.title.startswith("Verano 2026")
    # with its brand and partner by name, each linked to the client's page
    for nombre, id_cliente in (("Marca Ejemplo S.A.S.", marca), ("Ana Pérez", id_socio)):
        assert browser.find_element(By.LINK_TEXT, nombre).get_attribute("href").endswith(
            f"/admin/cliente/clienteview/{id_cliente}/change/")
    for svg_id, titulo, hoy_dice in [("grafico-clicks", "Clics por día", "3"),
                                     ("grafico-conversiones", "Conversiones por día", "1"),
                                     ("grafico-comisiones-COP", "Comisiones por día (COP)", "1\xa0000,00 COP")]:
        svg = browser.find_element(By.ID, svg_id)
        assert svg.get_attribute("aria-label") == titulo
        modulo = svg.find_element(By.XPATH, "..")  # the chart takes its module's width, less its padding
        assert svg.is_displayed() and abs(svg.size["width"] - (modulo.size["width"] - 24)) <= 1
        bars = svg.find_elements(By.TAG_NAME, "rect")
        assert len(bars) == 30
        titles = [bar.find_element(By.TAG_NAME, "title").get_attribute("textContent") for bar in bars]
        assert titles[-1] == f"{hoy:%Y-%m-%d}: {hoy_dice}" and titles[0].endswith(": 0" if svg_id != "grafico-comisiones-COP"
                                                                                 else ": 0,00 COP")
        # as rendered by the browser
        assert bars[-1].size["height"] == max(bar.size["height"] for bar in bars) > 0 and bars[0].size["height"] == 0
    heading = clicks.find_element(By.XPATH, "preceding-sibling::h2").text
    assert heading == "Clics por día · últimos 30 días · total 3"
    assert problems(browser) == []
    screenshot(browser, "admin-campania")
