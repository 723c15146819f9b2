"""gunicorn settings (`-c python:alpespartners.gunicorn_conf`, as the Procfile and the Dockerfile
run it): Prometheus' multiprocess mode, so /metrics counts the requests of every worker, whichever
one answers the scrape; a worker writes its buffered rows (alpespartners/write_behind.py) before it
exits; access lines without query strings. Bind address and worker count stay on the command line."""

import glob
import os
import shutil
import tempfile

# Before prometheus_client is imported anywhere: it picks its storage when imported, and the
# workers inherit this process's modules and environment.
OWN_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if OWN_DIRECTORY:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="alpespartners-metrics-")
MULTIPROCESS_DIRECTORY = os.environ["PROMETHEUS_MULTIPROC_DIR"]

# gunicorn's default access line, with the path instead of the request line: a query can carry a
# secret (a brand's postback `?token=`), and an access log (the Dockerfile's) must not keep it.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def on_starting(server):
    # Counters of a previous run in a directory given by the environment would be added to ours.
    for stale in glob.glob(os.path.join(MULTIPROCESS_DIRECTORY, "*.db")):
        os.remove(stale)


def worker_exit(server, worker):
    # In the worker, after its last request (SIGTERM, max_requests, a reload): the rows it still
    # buffers (clicks) are written before it goes. Also called in the master for a worker already
    # gone, where nothing is buffered.
    from alpespartners import write_behind

    write_behind.flush_all()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if OWN_DIRECTORY:
        shutil.rmtree(MULTIPROCESS_DIRECTORY, ignore_errors=True)
