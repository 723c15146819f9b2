from django.apps import AppConfig


class ClienteConfig(AppConfig):
    name = "cliente"
    verbose_name = "Clientes"

    def ready(self):
        from alpespartners import registry
        from cliente import queries

        # create_token --cliente checks the client exists (the platform never imports a context)
        registry.register_client_lookup("cliente", queries.cliente)
