FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# git for scrapes; pg_dump/pg_restore for `manage.py backup`/`restore`, of the server's major version (compose runs
# postgres:16, Debian's own client is another version): from PostgreSQL's apt repository, its key fetched by Python
# (the image has no curl; apt reads an armored .asc key as it is).
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && python -c "import urllib.request; urllib.request.urlretrieve('https://www.postgresql.org/media/keys/ACCC4CF8.asc', '/usr/share/keyrings/pgdg.asc')" \
    && . /etc/os-release \
    && echo "deb [signed-by=/usr/share/keyrings/pgdg.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update && apt-get install -y --no-install-recommends postgresql-client-16 \
    && pg_dump --version | grep -q ' 16\.' \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY course course
COPY reports_app reports_app
RUN pip install --no-cache-dir .
COPY . .
EXPOSE 8000
CMD ["gunicorn", "course.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
