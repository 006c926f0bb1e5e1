"""Headers every page of ours carries."""

from django.urls import reverse

# Our pages load scripts and styles from our own static files only; nothing may frame them or post elsewhere.
# Inline style attributes stay allowed (a progress bar's width); inline scripts and event handlers never are.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Adds PAGE_CSP to HTML responses that set no policy of their own (figures and downloads set stricter ones).

    The admin is left to Django: its pages are not ours to vouch for.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request):
        response = self.get_response(request)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and "Content-Security-Policy" not in response and not request.path.startswith(self.admin_prefix):
            response["Content-Security-Policy"] = PAGE_CSP
        return response
