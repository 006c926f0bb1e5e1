import os

from django.core.wsgi import get_wsgi_application

from reports_app.middleware import Request

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.settings")
application = get_wsgi_application()
application.request_class = Request  # reads a Content-Type header Django would fail on (see there)
