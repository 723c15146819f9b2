from .celery import app as celery_app
from .correlation import install_log_record_factory

install_log_record_factory()  # every process imports this package first: web, worker, relay, consumers

__all__ = ["celery_app"]
