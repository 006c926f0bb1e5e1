from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Staff work in the admin until the student pages exist; the site root leads there.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
