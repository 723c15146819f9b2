# One image for every process of the stack (web, worker, beat, relay, consumers, migrate);
# docker-compose.yml picks the process with its command.

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

WORKDIR /app

# Requirements first, so a code change does not reinstall them; all ship wheels, no compiler needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . /app

# Needs no environment: collectstatic touches neither the database nor a broker.
RUN python manage.py collectstatic --noinput

# With a home: gunicorn puts its control socket under $HOME.
RUN useradd --create-home --uid 10001 --user-group app
USER app

EXPOSE 8000

# Threads, so a request held by `Prefer: wait=N` (up to 10 s) does not block a whole worker;
# WEB_CONCURRENCY sets the worker count. /dev/shm, because heartbeats on overlayfs can stall.
CMD ["gunicorn", "alpespartners.wsgi:application", "-c", "python:alpespartners.gunicorn_conf", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "4", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-"]
