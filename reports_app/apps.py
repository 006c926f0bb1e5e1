from django.apps import AppConfig


class ReportsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports_app"
    verbose_name = "Reports"

    def ready(self) -> None:
        from django.conf import settings

        from .engine import bounded

        bounded.configure(
            bounded.Budget(settings.BUDGET_SECONDS, settings.BUDGET_MEMORY_MB * 1024**2, settings.BUDGET_RECURSION)
        )
