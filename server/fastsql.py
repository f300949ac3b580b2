"""Prepared statements for the scan path: a Core statement compiled once for the engine's
dialect and run on a raw DBAPI cursor, with SQLAlchemy's own type processors applied.

SQLAlchemy costs ~50 µs a statement; the scan path runs three, so on a 2-core bench server
that overhead was most of a decision's cost. Only the statements on that path use this.

What it reads of SQLAlchemy: the compiled string, `positional`/`positiontup` and `params`, each
bind's type (`binds`) and the public TypeEngine bind/result processors; the result columns
come from the public `exported_columns`. SQLAlchemy's supported way to get a statement's bind
processors (`construct_expanded_state`) only returns those of expanded parameters, and its own
execution path reads a private attribute, so these compiler attributes are how: pyproject pins
SQLAlchemy to the minor release this was tested with (2.1.x); tests/server/test_fastsql.py
checks the shortcut against SQLAlchemy's own execution, to run before raising the pin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.sql import ClauseElement


class Prepared:
    def __init__(self, engine: Engine, statement: ClauseElement):
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = compiled.positional
        self.order = list(compiled.positiontup or []) if self.positional else []
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self.binds = {}
        self.none_passes: set[str] = set()  # binds whose processor turns None into None
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.binds[name] = processor
                if _keeps_none(processor):
                    self.none_passes.add(name)
        self.columns: list[str] = []
        self.results: list[Any] = []
        for column in statement.exported_columns:  # a SELECT's columns, or an INSERT's RETURNING
            self.columns.append(column.key)
            self.results.append(column.type.dialect_impl(dialect).result_processor(dialect, None))

    def params(self, values: Mapping[str, Any]) -> Any:
        """The DBAPI parameters: each value through its type's bind processor, except a None the
        processor would return as None anyway (most nullable columns of a scan are None)."""
        binds, skip = self.binds, self.none_passes
        if self.defaults:
            values = {**self.defaults, **values}
        if self.positional:  # (a name may appear more than once in the order)
            return [_bound(binds, skip, name, values[name]) for name in self.order]
        return {name: _bound(binds, skip, name, value) for name, value in values.items()}

    def row(self, raw: tuple | None) -> dict | None:
        if raw is None:
            return None
        return {
            name: (process(value) if process and value is not None else value)
            for name, process, value in zip(self.columns, self.results, raw, strict=True)
        }

    def first(self, cursor, values: Mapping[str, Any]) -> dict | None:
        cursor.execute(self.sql, self.params(values))
        return self.row(cursor.fetchone())


def _bound(binds: dict, skip: set, name: str, value: Any) -> Any:
    process = binds.get(name)
    return value if process is None or (value is None and name in skip) else process(value)


def _keeps_none(processor) -> bool:
    """Whether a bind processor maps None to None (JSON, for one, does not: it writes 'null')."""
    try:
        return processor(None) is None
    except Exception:  # noqa: BLE001 - a processor that refuses None must still be asked
        return False
