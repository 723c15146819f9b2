"""A client's webhook receiver on 127.0.0.1, as its developers would write one: it checks each
request's signature with the endpoint's secret and answers what the test tells it to."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alpespartners.seedwork.firmas import firma_valida


@dataclass
class Recibido:
    event_id: str
    intento: int
    firma_valida: bool
    cuerpo: bytes
    llegado: float  # time.time()
    status: int


@dataclass
class Receptor:
    """`respuestas`: the statuses of the first requests in order (then 200); `colgado`: never answers."""

    secreto: str = ""
    respuestas: list[int] = field(default_factory=list)
    colgado: bool = False
    recibidos: list[Recibido] = field(default_factory=list)

    def __post_init__(self):
        self._lock, self._soltar = threading.Lock(), threading.Event()
        receptor = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                cuerpo = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receptor.colgado:
                    receptor._soltar.wait(60)  # the dispatcher's timeout hits first
                    return
                with receptor._lock:
                    status = receptor.respuestas.pop(0) if receptor.respuestas else 200
                    receptor.recibidos.append(Recibido(
                        self.headers["X-Alpes-Event-Id"], int(self.headers["X-Alpes-Delivery-Attempt"]),
                        firma_valida(receptor.secreto, self.headers["X-Alpes-Timestamp"], cuerpo,
                                     self.headers["X-Alpes-Signature"]), cuerpo, time.time(), status))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"fallo del receptor")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alpes"

    def event_ids(self, status: int | None = 200) -> list[str]:
        with self._lock:
            return [recibido.event_id for recibido in self.recibidos if status is None or recibido.status == status]

    def close(self) -> None:
        self._soltar.set()
        self.server.shutdown()
        self.server.server_close()
