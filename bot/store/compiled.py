"""Statements of the hot path compiled once per database, run with plain tuples, and the ORM's flush of
changed conversations and contacts done the same way.

Every web chat message runs the same few statements. Through SQLAlchemy's ``Connection.execute`` each run
costs more than SQLite takes to run it: the compiled form looked up by its cache key, the parameters
turned into a dictionary and through their types, the result set up; through the ORM's flush more again
(the unit of work, the mapper's per-column comparison, events). Measured in-process
(``benchmarks/webchat_profile.py``): about half of a message's CPU time in SQLAlchemy. So these statements
are compiled here once per dialect and run by ``exec_driver_sql`` with a tuple made by the very bind
processors SQLAlchemy would use (a datetime to UTC and to text on SQLite, JSON to text, ...): the same
SQL, the same values in the database, on SQLite and PostgreSQL alike.

:func:`flush` stands for ``Session.flush`` when the only pending changes are changed columns of
conversations and contacts already in the database (every message's case): one ``UPDATE`` of the
changed columns per row, as the ORM would emit it, and the objects then marked clean as the ORM's flush
marks them. Anything else pending (a new row, a deletion, another table) goes to ``Session.flush``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Connection, Select, Table, bindparam, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstanceState, Mapper, Session, attributes
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from bot.store.models import Contact, Conversation
from bot.store.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None
T = TypeVar("T")


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL for one dialect and, per placeholder in order, its parameter and bind processor."""

    sql: str
    plan: tuple[tuple[str, Processor], ...]
    # a select's result processors, one per column in order (empty for other statements)
    results: tuple[Processor, ...] = ()

    def row(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple([values[key] if process is None else process(values[key]) for key, process in self.plan])

    def run(self, connection: Connection, values: Mapping[str, Any]) -> Ran:
        inline = _inline(connection)
        if inline is not None:
            return inline.execute_now(self.sql, self.row(values))
        return connection.exec_driver_sql(self.sql, self.row(values))

    def run_many(self, connection: Connection, rows: Iterable[Mapping[str, Any]]) -> Ran:
        inline = _inline(connection)
        if inline is not None:
            return inline.executemany_now(self.sql, [self.row(values) for values in rows])
        return connection.exec_driver_sql(self.sql, [self.row(values) for values in rows])

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """A select's first row, its values turned by their result processors (None if no row)."""
        found = self.run(connection, values).fetchone()
        if found is None:
            return None
        return tuple(
            [
                value if process is None else process(value)
                for value, process in zip(found, self.results, strict=True)
            ]
        )


class Ran(Protocol):
    """What a run gives back: ``sqlite3.Cursor`` (SQLite, inline) or SQLAlchemy's ``CursorResult``."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...


def _inline(connection: Connection) -> InlineConnection | None:
    """The inline SQLite connection under ``connection``, in a transaction (:mod:`bot.store.sqlite_inline`):
    a statement goes straight to SQLite, as fast as SQLite runs it; SQLAlchemy's ``exec_driver_sql`` costs
    more than SQLite itself there. None for any other driver (PostgreSQL, aiosqlite's thread)."""
    driver = connection.connection.driver_connection
    if isinstance(driver, InlineConnection) and driver.in_transaction:
        return driver
    return None


class Statement:
    """A Core statement, compiled on first use for each dialect it runs on (see :class:`Compiled`).

    ``columns``: for an insert or an update with no ``values()``, the columns it sets (each a parameter
    of the column's name)."""

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._by_dialect: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = compile_for(dialect, self.statement, self.columns)
        return found

    def run(self, connection: Connection, values: Mapping[str, Any]) -> Ran:
        return self.compiled(connection.dialect).run(connection, values)

    def run_many(self, connection: Connection, rows: Iterable[Mapping[str, Any]]) -> Ran:
        return self.compiled(connection.dialect).run_many(connection, rows)

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        return self.compiled(connection.dialect).first(connection, values)


def compile_for(dialect: Dialect, statement: ClauseElement, columns: Sequence[str] | None = None) -> Compiled:
    """``statement`` compiled for ``dialect`` (which must take positional parameters: SQLite's ``?``,
    asyncpg's ``$n``), with each placeholder's bind processor. Every value is a parameter of the run:
    a value bound in the statement itself is not taken (the run's missing key fails loudly)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=columns))
    if compiled.positiontup is None:
        raise RuntimeError(f"{dialect.name}: a positional paramstyle is needed for a compiled statement")
    plan: list[tuple[str, Processor]] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        plan.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    results: tuple[Processor, ...] = ()
    if isinstance(statement, Select):
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
    return Compiled(compiled.string, tuple(plan), results)


# -- the flush of changed conversations and contacts ------------------------------------------------

_FLUSHED: dict[type, Table] = {
    Conversation: cast(Table, Conversation.__table__),
    Contact: cast(Table, Contact.__table__),
}
_UPDATES: dict[tuple[type, frozenset[str]], Statement] = {}
_KEY = "b_id"  # the primary key's parameter (never a column's name)


def flush(session: Session) -> None:
    """``session.flush()``, done as above when only columns of known rows changed (see the module)."""
    if session._is_clean():  # what Session.flush asks first (most calls: nothing pending)
        return
    if session.new or session.deleted:
        session.flush()
        return
    dirty = list(session.dirty)
    if not dirty:
        return
    changes: list[tuple[InstanceState[Any], Statement | None, dict[str, Any]]] = []
    for instance in dirty:
        table = _FLUSHED.get(type(instance))
        state = attributes.instance_state(instance)
        if table is None or state.key is None or state.expired_attributes:
            session.flush()
            return
        values: dict[str, Any] = {}
        current = state.dict
        for key, before in state.committed_state.items():
            if key not in current:
                session.flush()
                return
            now = current[key]
            if before is NO_VALUE or before != now:  # as the mapper compares (is_equal)
                values[key] = now
        if "id" in values:
            session.flush()
            return
        statement: Statement | None = None
        if values:
            names = frozenset(values)
            statement = _UPDATES.get((type(instance), names))
            if statement is None:
                ordered = sorted(names, key=lambda name: list(table.c.keys()).index(name))
                statement = _UPDATES[(type(instance), names)] = Statement(
                    update(table)
                    .where(table.c.id == bindparam(_KEY))
                    .values({name: bindparam(name) for name in ordered})
                )
            values[_KEY] = current["id"]
        changes.append((state, statement, values))
    connection = connection_of(session)
    for state, statement, values in changes:
        if statement is not None:
            updated = statement.run(connection, values).rowcount
            if updated != 1:  # as the ORM's flush: the row is gone under us
                raise StaleDataError(
                    f"UPDATE statement on table '{statement.statement.table.name}' expected to update "  # type: ignore[attr-defined]
                    f"1 row(s); {updated} were matched."
                )
        # As the ORM's flush ends: the new values are now the committed ones, the object is clean.
        state._commit_all(state.dict, session.identity_map)


def persistent(session: Session, cls: type[T], values: dict[str, Any]) -> T:
    """The ``cls`` object of a row just read (every column in ``values``), in ``session`` as the ORM's
    loading puts it there: persistent, clean, in the identity map. If the session holds that row's object
    already, that object, unchanged (as the ORM's select gives it back without ``populate_existing``)."""
    mapper = _mapper(cls)
    key = mapper.identity_key_from_primary_key((values["id"],))
    held = session.identity_map.get(key)
    if held is not None:
        return cast(T, held)
    return cast(T, _attach(session, mapper, key, values))


def _attach(session: Session, mapper: Mapper[Any], key: Any, values: dict[str, Any]) -> Any:
    """A new object of ``mapper`` with ``values`` as its loaded state, put in ``session``'s identity map
    under ``key`` as SQLAlchemy's loader does (``loading._instance``: the state's key and session, no
    events, nothing to flush); ``make_transient_to_detached`` and ``Session.add`` came to the same
    state, by a path that cost a twentieth of a message (the mapper's cascades, attach events)."""
    instance = mapper.class_manager.new_instance()
    state = attributes.instance_state(instance)
    state.dict.update(values)  # as the loader sets them: no change events, nothing modified
    state.key = key
    state.identity_token = key[2]
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, key)
    return instance


@dataclass(frozen=True)
class _Insert:
    """A table's ``INSERT`` of every column but the id, and the columns' Python-side defaults."""

    statement: Statement
    columns: tuple[str, ...]
    defaults: dict[str, Any]  # column -> its default: a value, or a function of no argument


_INSERTS: dict[type, _Insert] = {}


def insert_persistent(session: Session, cls: type[T], values: Mapping[str, Any]) -> T:
    """SQLite: the row of ``cls(**values)`` inserted as the ORM's flush inserts a new object (every
    column but the id, the columns' Python defaults for those not in ``values``, None for the rest), by a
    compiled statement, after the session's pending changes (:func:`flushed_connection`); and its object,
    persistent and clean in ``session``, with the attributes the ORM's flush leaves: ``values``, the
    defaults it filled in and the new id (a column left None stays unset, and reads None).

    A new conversation's and contact's inserts through the ORM's flush (the unit of work, the mapper's
    per-column work, events) cost about a third of a new conversation's first message."""
    found = _INSERTS.get(cls)
    if found is None:
        found = _INSERTS[cls] = _insert_of(cls)
    row = dict(values)
    for key, default in found.defaults.items():
        if key not in row:
            row[key] = default() if callable(default) else default
    state_values = {key: value for key, value in row.items() if value is not None or key in values}
    for key in found.columns:
        row.setdefault(key, None)
    connection = flushed_connection(session)
    if connection.dialect.name != "sqlite":
        raise RuntimeError("insert_persistent takes the new id from SQLite's lastrowid")
    state_values["id"] = found.statement.run(connection, row).lastrowid
    mapper = _mapper(cls)
    return cast(
        T, _attach(session, mapper, mapper.identity_key_from_primary_key((state_values["id"],)), state_values)
    )


def _insert_of(cls: type) -> _Insert:
    table = cast(Table, _mapper(cls).local_table)
    columns = tuple(column.key for column in table.columns if not column.primary_key)
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.primary_key or default is None:
            continue
        if not (default.is_scalar or default.is_callable) or default.is_sequence:
            raise RuntimeError(f"{table.name}.{column.key}: a default insert_persistent cannot fill in")
        # a callable default is wrapped by SQLAlchemy to take the execution context (unused by ours)
        arg = default.arg  # type: ignore[attr-defined]
        defaults[column.key] = arg if default.is_scalar else functools.partial(arg, None)
    return _Insert(Statement(insert(table), columns), columns, defaults)


_MAPPERS: dict[type, Mapper[Any]] = {}


def _mapper(cls: type) -> Mapper[Any]:
    found = _MAPPERS.get(cls)
    if found is None:
        found = _MAPPERS[cls] = sa_inspect(cls)
    return found


_CONNECTION = "compiled_connection"


def connection_of(session: Session) -> Connection:
    """``session.connection()``, kept for the transaction's length: asked for every statement of a message,
    SQLAlchemy's lookup (the transaction's connection for the bind) cost about a twentieth of the message."""
    transaction = session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return cast(Connection, kept[1])
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection


def flushed_connection(session: Session) -> Connection:
    """:func:`connection_of`, the session's pending changes flushed first (:func:`flush`), as
    ``session.execute`` would (autoflush): what a compiled statement runs on, in statement order."""
    flush(session)
    return connection_of(session)
