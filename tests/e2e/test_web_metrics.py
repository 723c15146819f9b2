"""/metrics under gunicorn with several workers (as the Procfile runs it): every scrape reports the
requests of all workers, whichever worker answers it."""

import json
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import wait_until

pytestmark = pytest.mark.real_services

REQUESTS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health_requests(metrics_text: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(metrics_text) for sample in family.samples
               if sample.name == "django_http_requests_total_by_view_transport_method_total"
               and sample.labels.get("view") == "health")


def test_every_scrape_counts_the_requests_of_every_worker(processes):
    port = free_port()
    web = processes("web", "-m", "gunicorn", "alpespartners.wsgi:application", "-c", "python:alpespartners.gunicorn_conf",
                    "--bind", f"127.0.0.1:{port}", "--workers", "3", "--worker-class", "gthread", "--threads", "4")
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"{base}/health", timeout=2).status == 200
        except OSError:
            return False

    wait_until(answers, 60, "gunicorn to answer", diagnose=web.log)
    before = health_requests(urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode())
    for _ in range(REQUESTS):
        urllib.request.urlopen(f"{base}/health", timeout=5).close()

    scrapes = [health_requests(urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()) for _ in range(6)]
    assert scrapes == [before + REQUESTS] * 6
    pids = {line["pid"] for line in map(json.loads, filter(lambda line: line.startswith("{"), web.log().splitlines()))
            if line.get("message") == "GET /health 200"}
    assert len(pids) > 1, "one worker answered every request: the test proves nothing"
