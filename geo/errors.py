"""Errors that carry a user-facing message naming the file, column/row and problem."""
from __future__ import annotations


class GeoError(Exception):
    """Base class: str(err) is a complete, user-facing one-line message."""


class SourceError(GeoError):
    """A source file is missing, corrupt or does not have the expected shape."""

    def __init__(self, file: str, problem: str, *, column: str | None = None, row: int | None = None):
        self.file, self.problem, self.column, self.row = str(file), problem, column, row
        where = [self.file]
        if column is not None:
            where.append(f"column '{column}'")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: {problem}")


class StoreMissing(GeoError):
    """The built store is absent, incomplete or older than this code expects."""


class UsageError(GeoError):
    """Bad command-line arguments or option values (CLI exits 2)."""
