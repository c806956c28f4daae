"""The check that keeps the test suite away from databases it was not given for testing.

The session fixture drops and recreates the whole ``public`` schema of its PostgreSQL database
(``tests/conftest.py`` ``reset_database``). That is only acceptable on a database whose name says
it is disposable: ``test``, or a name ending in ``_test``. Any other name is refused before a
connection is opened, whatever URL reached the suite.

SQLite files are not checked by name: the suite only ever gets one from ``TEST_DATABASE_URL`` or
the default ``INSTANCE_DIR/test.sqlite`` (the test config never reads ``DATABASE_URL``), and the
embedded mode's own file is ``instance/jobservice.sqlite``.
"""

from sqlalchemy.engine import make_url

TEST_DATABASE_HINT = (
    "set TEST_DATABASE_URL to a database whose name ends in _test "
    "(e.g. postgresql://postgres@127.0.0.1/jobservice_test), or unset it to use a SQLite file"
)


class UnsafeTestDatabase(RuntimeError):
    """The suite was pointed at a database it must not wipe."""


def is_test_database_name(name):
    """``test`` or ``<anything>_test``: the names the suite may drop the schema of."""
    return name == "test" or (name or "").endswith("_test")


def require_test_database(url):
    """Raise :class:`UnsafeTestDatabase` unless ``url`` is SQLite or names a test database.

    ``url`` is a string or a SQLAlchemy URL; nothing is connected to.
    """
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return
    if not is_test_database_name(url.database):
        raise UnsafeTestDatabase(
            f"refusing to reset {url.render_as_string(hide_password=True)}: the test suite drops and "
            f"recreates the schema of its database, and {url.database!r} is not named as a test database "
            f"(the name must be 'test' or end in '_test'); {TEST_DATABASE_HINT}."
        )
