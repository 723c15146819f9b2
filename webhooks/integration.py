"""The contracts of `webhooks` with the rest of the company: it only listens. It publishes no
integration event and takes no command; it reads every event the routing table (domain.RUTAS)
names and pushes it to the clients' endpoints."""

TOPIC = None
COMMAND_TOPIC = None
COMMANDS: dict = {}
PUBLISHED: dict = {}
