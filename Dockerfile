# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

# PYTHONPATH: the code runs from /app, since a wheel would carry only .py files, not templates/,
# static/, locale/ or the apps' templates, and settings find those next to config/ (BASE_DIR).
# OMP_NUM_THREADS=1 (CONVENTIONS §4): on 2 cores, oversubscribed BLAS threads stall the models.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    OMP_NUM_THREADS=1

WORKDIR /app

# The pinned dependencies from pyproject.toml, in a layer that changes only when it does:
# `pip install .` on empty package stubs, then the stub distribution itself is removed, so
# exactly one copy of the code exists (/app, copied below).
COPY pyproject.toml ./
RUN mkdir -p apps config \
    && touch README.md apps/__init__.py config/__init__.py \
    && pip install . \
    && pip uninstall --yes credence \
    && rm -rf apps config README.md build ./*.egg-info

COPY . .

# Static files are built into the image (whitenoise serves them with hashed names, which only
# production's storage writes). The keys are throwaways that let production settings import;
# nothing at run time uses them. A new required production variable needs a placeholder here.
RUN DJANGO_SECRET_KEY=collectstatic-build-only-not-a-secret \
    PARTIES_ID_HASH_KEY=collectstatic-build-only-not-a-secret \
    python manage.py collectstatic --no-input --verbosity 0

# Code stays root-owned and read-only to the app; only var/ (uploads) is writable by it.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home credence \
    && mkdir -p /app/var/media \
    && chown -R credence:credence /app/var
USER credence

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", \
     "--access-logfile", "-"]
