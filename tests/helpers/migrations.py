"""Moving a test database between migrations."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """The database at `targets`; the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """The database at the newest migrations again (after a test moved it back)."""
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
