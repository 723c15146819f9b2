from axes.apps import AppConfig as AxesConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django_celery_beat.apps import BeatConfig


class BackOfficeAdminConfig(AdminConfig):
    """django.contrib.admin with the back office's site (its home shows the operator's numbers)."""

    default_site = "alpespartners.backoffice.BackOfficeSite"


# The apps we don't own, under the Spanish name the back office shows (the admin's index and sidebar,
# permissions): INSTALLED_APPS names these instead of the apps' own configs. Same app labels, so
# nothing else changes (no migration: an app's verbose_name is not in its models' state).
# rest_framework.authtoken keeps its own config, already Spanish ("Token de autenticación"): its
# models exist only while the literal "rest_framework.authtoken" is in INSTALLED_APPS.


class UsuariosConfig(AuthConfig):
    verbose_name = "Usuarios y permisos"


class TareasProgramadasConfig(BeatConfig):
    verbose_name = "Tareas programadas"


class BloqueoDeAccesosConfig(AxesConfig):
    verbose_name = "Bloqueo de accesos"  # axes: failed logins, lockouts (unlock here)
