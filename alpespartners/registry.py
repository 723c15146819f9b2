"""What the contexts lend the platform: the numbers of the back office's home, the gauges of
`/metrics`, the client lookup of `create_token`, the charts of the admin's campaign page and the
loops the demo's server runs in threads.

The platform never imports a context (`.importlinter` checks it): each context registers its
pieces here from its AppConfig.ready(), and the platform reads them when it needs them. Plain
dicts keyed by name, so registering again (a second ready()) replaces instead of duplicating;
their order is INSTALLED_APPS' order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from prometheus_client.metrics_core import Metric


class DashboardNumbers(NamedTuple):
    name: str
    compute: Callable[[], dict]  # returns keys of the back office's `tablero` (its template reads them)
    slow: bool  # computed at most once a minute, shared by every web process through the cache


_dashboard: dict[str, DashboardNumbers] = {}
_metric_collectors: dict[str, Callable[[], Iterable[Metric]]] = {}
_client_lookups: dict[str, Callable[[Any], Any | None]] = {}
_campaign_panels: dict[str, Callable[[Any], list[dict]]] = {}
_embedded_loops: dict[str, Callable[[Any], None]] = {}


def register_dashboard_numbers(name: str, compute: Callable[[], dict], *, slow: bool = False) -> None:
    """`compute()` adds its keys to the back office home's numbers; a slow one is cached under
    `backoffice:<name>:<date>`."""
    _dashboard[name] = DashboardNumbers(name, compute, slow)


def dashboard_numbers() -> list[DashboardNumbers]:
    return list(_dashboard.values())


def register_metric_collector(name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """`collect()` yields metric families read from the database at each scrape of `/metrics`."""
    _metric_collectors[name] = collect


def metric_collectors() -> list[Callable[[], Iterable[Metric]]]:
    return list(_metric_collectors.values())


def register_client_lookup(name: str, find: Callable[[Any], Any | None]) -> None:
    """`find(id_cliente)` returns the client, or None when that context does not know it."""
    _client_lookups[name] = find


def find_client(id_cliente) -> Any | None:
    """The client with that id from the first context that knows it; None if none does (or no
    context registered a lookup)."""
    for find in _client_lookups.values():
        if (found := find(id_cliente)) is not None:
            return found
    return None


def register_campaign_panel(name: str, render: Callable[[Any], list[dict]]) -> None:
    """`render(id_campania)` returns bar charts (`alpespartners.backoffice.barras`) for the admin's
    page of that campaign; the campaign's own context (campanias) cannot compute figures another
    context owns."""
    _campaign_panels[name] = render


def campaign_charts(id_campania) -> list[dict]:
    """The charts of every registered campaign panel, in registration order."""
    return [chart for render in _campaign_panels.values() for chart in render(id_campania)]


def register_embedded_loop(name: str, run: Callable[[Any], None]) -> None:
    """`run(stopping)` does a process's work until the threading.Event `stopping` is set: the demo's
    server (`serve_demo`, SQLite, no Pulsar) runs it in a thread, where the real stack runs a process."""
    _embedded_loops[name] = run


def embedded_loops() -> dict[str, Callable[[Any], None]]:
    return dict(_embedded_loops)
