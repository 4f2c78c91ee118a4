"""Test databases on PostgreSQL cloned from one migrated template instead of migrated each.

Migrating an empty database takes about 100 s of CPU (Django renders the model state for each
of ~100 migrations), and the suite used to pay it once per test process: twice for the parallel
run and once more for the page sweep's process of its own. The first process to need a test
database now builds a template under a server-wide advisory lock; every process clones it
(`CREATE DATABASE … TEMPLATE`, a file copy of about a second).

The template's name carries a digest of everything the migrations may import (the apps, the
settings, the test app and the pinned dependencies), so a change to any of them builds a new one
and a stale one is never cloned; older templates of the same test database are dropped. A
template is built under a temporary name and renamed when complete, so a run killed while
building leaves nothing that a later run would clone. `CREDENCE_TEST_DB_TEMPLATE=0` turns this
off (every process migrates its own database, as Django does).
"""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import DatabaseError

ROOT = Path(__file__).resolve().parents[1]
# What a migration can import or depend on; tests (but the test app's models) cannot.
_SOURCES = ("apps", "config", "tests/testapp")
_LOCK_KEY = 0x43524544  # "CRED": one build at a time on this server
_SUFFIX = "_tpl_"


def enabled() -> bool:
    return os.environ.get("CREDENCE_TEST_DB_TEMPLATE", "1") != "0"


def source_digest() -> str:
    digest = hashlib.sha256()
    for top in _SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in f"/{relative}" and not relative.startswith("tests/testapp/"):
                continue
            digest.update(relative.encode())
            digest.update(path.read_bytes())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    import django

    digest.update(django.get_version().encode())
    return digest.hexdigest()[:12]


def template_name(test_database_name: str) -> str:
    # The parallel processes' databases (…_gw0, …_gw1) and the single process's share one.
    base = re.sub(r"_gw\d+$", "", test_database_name)
    return f"{base[:40]}{_SUFFIX}{source_digest()}"


@contextmanager
def _server_lock(creation):
    with creation._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _exists(creation, name: str) -> bool:
    with creation._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def _execute(creation, *statements: str) -> None:
    with creation._nodb_cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _build(creation, migrate, template: str, verbosity: int) -> None:
    """Django's own creation (migrate, cache table) under a temporary name, then published."""
    quote = creation.connection.ops.quote_name
    building = f"{template}_new"
    test_settings = creation.connection.settings_dict["TEST"]
    own_name = test_settings.get("NAME")
    test_settings["NAME"] = building
    try:
        migrate(creation, verbosity=verbosity, autoclobber=True, serialize=False, keepdb=False)
    finally:
        test_settings["NAME"] = own_name
    creation.connection.close()
    _execute(creation, f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")
    _drop_older(creation, template)


def _drop_older(creation, template: str) -> None:
    quote = creation.connection.ops.quote_name
    prefix = template[: template.index(_SUFFIX) + len(_SUFFIX)]
    with creation._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
                       "AND datname <> %s", [prefix, template])
        older = [row[0] for row in cursor.fetchall()]
    for name in older:
        # One in use by a run still going is dropped by the next run that builds a template.
        with suppress(DatabaseError):
            _execute(creation, f"DROP DATABASE IF EXISTS {quote(name)}")


def install() -> None:
    """Wrap PostgreSQL's test-database creation (called by pytest-django's setup)."""
    from django.conf import settings
    from django.db.backends.postgresql.creation import DatabaseCreation

    migrate = DatabaseCreation.create_test_db
    if getattr(migrate, "from_template", False):
        return

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        if keepdb or not enabled():
            return migrate(self, verbosity=verbosity, autoclobber=autoclobber,
                           serialize=serialize, keepdb=keepdb)
        name = self._get_test_db_name()
        template = template_name(name)
        quote = self.connection.ops.quote_name
        if verbosity >= 1:
            self.log(f"Creating test database {name} from template {template}...")
        with _server_lock(self):
            if not _exists(self, template):
                _build(self, migrate, template, verbosity)
            _execute(self, f"DROP DATABASE IF EXISTS {quote(name)}",
                     f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = name
        self.connection.settings_dict["NAME"] = name
        if serialize:  # as Django does when asked here (setup_databases asks afterwards)
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        self.connection.ensure_connection()
        return name

    create_test_db.from_template = True
    DatabaseCreation.create_test_db = create_test_db
