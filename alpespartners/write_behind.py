"""Rows a web process records without a transaction per request (a context's clicks, say): kept in
this process's memory and written by a background thread in one COPY (alpespartners/bulk.py)
every `interval` seconds, or as soon as `batch` rows wait.

Loss bounds: a clean exit (gunicorn's worker_exit hook, see gunicorn_conf.py, or atexit for any
other process) writes what is left, so it loses nothing; a crash (SIGKILL, OOM) loses what arrived
since the last write, at most `interval` seconds of this one process. While the database is away
the rows stay here and the write is retried every interval, up to `max_rows` (the oldest are then
dropped, logged): memory is the one thing a web process must not run out of."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Callable

from django.db import connection, transaction

from alpespartners import bulk

logger = logging.getLogger(__name__)

_buffers: list[WriteBehind] = []


class WriteBehind:
    def __init__(self, model, *, interval: float, batch: int, max_rows: int,
                 prepare: Callable[[list[dict]], None] | None = None):
        """`prepare(rows)`, when given, completes the rows in place before they are written, in the
        writing thread (work the request need not wait for); it must leave rows it already
        completed alone, since rows kept after a failed write meet it again."""
        self.model, self.interval, self.batch, self.max_rows = model, interval, batch, max_rows
        self.prepare = prepare
        self._lock = threading.Lock()  # guards the rows
        self._writing = threading.Lock()  # one writer at a time: the thread, or the exit
        self._wake = threading.Event()
        self._rows: list[dict] = []
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stopped = False
        _buffers.append(self)

    def add(self, row: dict) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a fork copied the parent's rows and not its thread
                self._rows, self._thread, self._pid, self._stopped = [], None, os.getpid(), False
            self._rows.append(row)
            if self._thread is None:
                self._start()
            if len(self._rows) >= self.batch:
                self._wake.set()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"write-behind-{self.model._meta.db_table}",
                                        daemon=True)  # daemon: a crash must not hang on it; exits flush first
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            if not self._stopped:
                self.flush()

    def flush(self) -> int:
        """Write what waits; on an error keep it for the next try. Returns the rows written."""
        with self._writing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                if self.prepare is not None:
                    self.prepare(rows)
                with transaction.atomic():
                    bulk.insert(self.model, rows)
            except Exception:
                logger.exception("write-behind: %d %s rows not written, kept for the next try", len(rows),
                                 self.model._meta.db_table)
                connection.close()  # a broken connection is opened anew next time
                self._keep(rows)
                return 0
            return len(rows)

    def _keep(self, rows: list[dict]) -> None:
        with self._lock:
            self._rows[:0] = rows
            excess = len(self._rows) - self.max_rows
            if excess > 0:
                del self._rows[:excess]
                logger.error("write-behind: dropped the %d oldest %s rows (database away too long)", excess,
                             self.model._meta.db_table)

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def stop(self) -> None:
        """Stop the thread, then write what is left from the calling thread."""
        if self._pid != os.getpid():
            return  # a copy inherited by fork: its rows are the parent's to write
        self._stopped = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.flush()
        connection.close()


def flush_all() -> None:
    """Every buffer of this process, written before it exits."""
    for buffer in _buffers:
        try:
            buffer.stop()
        except Exception:
            logger.exception("write-behind: %s rows lost at exit", buffer.model._meta.db_table)


atexit.register(flush_all)  # any process; gunicorn's workers also call it from worker_exit
