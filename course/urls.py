from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from reports_app.forms import PasswordSetupForm

urlpatterns = [
    path("admin/", admin.site.urls),
    # Accounts made by a roster import or a sign-up have no password yet: the reset link is how they choose one.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordSetupForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("reports_app.urls")),
]
