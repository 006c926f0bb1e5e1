"""What tests share besides conftest.py's fixture cast: builders and checks, one module per concern.

repos (real git repos made in a test), git_http (a smart-HTTP git server on 127.0.0.1, with Basic auth and rate
limits on demand), hostile (inputs built to stall or crash), pages (driving the report pages),
csv (what a spreadsheet would run), authorization (the URL x role matrix), settings (the settings imported in a
clean process), images (PNG and JPEG files), processes (workers, servers and databases in processes of their own),
forms (a page's form fields as a password manager reads them).
"""
