"""Which database a click journal belongs to: its clicks are shipped into that one, never into another.

A journal directory outlives the server that wrote it, and its default on PostgreSQL (`./var/clicks`) is the same
for every database served from one working directory. Without a check, a server of database B would ship what
a server of database A left in the journal into B: clicks on links B has never heard of, and missing from A.

So the journal records the identity of the database it ships into (`journal.database`, beside `journal.id`), the
first time it is shipped; the identity is a random name the database keeps for itself
(mask.models.click.DatabaseIdentity). A journal of another database is refused, loudly, while it holds clicks;
an empty one is simply taken over.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from mask.click.journal import is_segment

logger = logging.getLogger("mask.click")

OWNER_FILE = "journal.database"


class JournalOfAnotherDatabase(Exception):
    """The journal holds clicks of another database: they must not be stored in this one."""

    def __init__(self, directory: Path, owner: str, database: str, segments: int) -> None:
        self.directory, self.owner, self.database = directory, owner, database
        super().__init__(
            f"the click journal {directory} holds {segments} segment(s) of clicks for another database "
            f"(identity {owner}; this one is {database}), so they are not stored here. Give this database a "
            f"journal of its own (MASK_CLICK_JOURNAL_DIR), and ship those clicks with the other database's "
            f"MASK_DATABASE_URL (`mask worker`). If that database is gone for good and the clicks belong in this "
            f"one, delete {directory / OWNER_FILE}."
        )


def owner_of(directory: Path) -> str | None:
    """The identity of the database the journal ships into; None for a journal never shipped."""
    try:
        return (directory / OWNER_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def _write_owner(directory: Path, database: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{OWNER_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    temporary.write_text(database + "\n")
    os.replace(temporary, directory / OWNER_FILE)  # whole or not at all


def _segments(directory: Path) -> int:
    try:
        return sum(1 for name in os.listdir(directory) if is_segment(name))
    except FileNotFoundError:
        return 0


def claim(directory: Path, database: str) -> None:
    """Make sure the journal in `directory` is this database's: record it on a journal never shipped, take over
    one of another database that holds no clicks; raise JournalOfAnotherDatabase for one that holds some."""
    owner = owner_of(directory)
    if owner == database:
        return
    if owner is not None:
        segments = _segments(directory)
        if segments:
            raise JournalOfAnotherDatabase(directory, owner, database, segments)
        logger.warning(
            "the click journal %s was another database's (identity %s) and holds no clicks: now this one's (%s)",
            directory,
            owner,
            database,
        )
    _write_owner(directory, database)
