from django.apps import AppConfig


class ReportsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports_app"
    verbose_name = "Reports"
