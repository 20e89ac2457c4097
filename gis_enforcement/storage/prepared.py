"""Statements prepared once per database connection, for the few that run on every request.

PostgreSQL plans a statement each time it receives its text. For the single-incident statements (a SELECT of
four sub-queries, an INSERT with CTEs and joins) planning costs more server time than running them. A
``Prepared`` statement is sent with ``PREPARE`` the first time a pooled connection runs it and with
``EXECUTE`` after that; which statements a connection holds is kept in the pool's record of that connection
(``info``), so a connection replaced by the pool starts afresh. Prepared statements outlive a rollback and
end with the connection.

Written like a ``text()`` statement, with ``:name`` parameters; values go over as psycopg2 literals and take
the types PostgreSQL inferred from the statement (``CAST`` where it cannot tell).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["Prepared"]

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Prepared:
    """One named statement; ``execute`` runs it on the session's connection and returns the cursor."""

    def __init__(self, name: str, sql: str) -> None:
        if not name.isidentifier():
            raise ValueError(f"not a statement name: {name!r}")
        self.name = name
        self.params: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) not in self.params:
                self.params.append(m.group(1))
            return f"${self.params.index(m.group(1)) + 1}"

        body = _PARAM.sub(number, sql)
        self.prepare = f"PREPARE {name} AS {body}"  # sent without parameters: psycopg2 leaves a % alone
        self.run = f"EXECUTE {name} ({', '.join(['%s'] * len(self.params))})" if self.params else f"EXECUTE {name}"

    def execute(self, session: Session, params: Mapping[str, Any]) -> Any:
        """Run with ``params`` (every ``:name`` of the statement); the cursor holds the result."""
        fairy = session.connection().connection
        held: set[str] = fairy.info.setdefault("gise_prepared", set())
        cur = fairy.cursor()
        if self.name not in held:
            cur.execute(self.prepare)
            held.add(self.name)
        cur.execute(self.run, [params[p] for p in self.params])
        return cur
