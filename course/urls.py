from django.contrib import admin
from django.urls import include, path

from reports_app.views import accounts

handler500 = "reports_app.views.system.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path(
        "accounts/reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    # Accounts made by a roster import have no password yet: the reset link is how they choose one (mail-limited).
    path("accounts/password_reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("reports_app.urls")),
]
