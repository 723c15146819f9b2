from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    """django.contrib.admin with the back office's site (its home shows the operator's numbers)."""

    default_site = "alpespartners.backoffice.BackOfficeSite"
