"""The box's SQLite database: migrations, the single writer, read-only queries, recordings."""

import sys


def _import_sqlite_utils_without_numpy() -> None:
    """sqlite-utils imports numpy whenever it is installed, only to name numpy scalar types as column
    types when a table is created from values; our tables are created by migrations from Python types.
    Hidden for that one import, numpy stays out of an engine that needs it for nothing else (issue 9:
    about 10 MB of RSS, and its import time on the Pi). A process that has loaded numpy already is
    left alone."""
    if "sqlite_utils" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # `import numpy` raises ImportError (see the import system's sys.modules)
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["numpy"]


_import_sqlite_utils_without_numpy()
