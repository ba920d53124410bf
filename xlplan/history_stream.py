"""A consolidation's history in constant memory: each used planbok's figures go into a
temporary table of the history database as the file arrives, the comparison with the
baseline run is made there (only the figures that differ come back to Python), and recording
copies the staged figures into the history with one INSERT … SELECT.

A region of 2 000 planböcker has some 800 000 figures; as Python dicts (this run's and the
baseline's) they were most of the run's memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from xlplan.changes import Baseline, Change, Key
from xlplan.extract import Figure
from xlplan.store import HistoryStore, _decimal

PROGNOS_KINDS = frozenset({"budget", "prognos", "avvikelse"})  # what Förändringar tabulates
STAGED, BASE = "xlplan_aktuell", "xlplan_jamfort"  # temporary tables, one connection's own
_COLUMNS = "namnd VARCHAR(20), slag VARCHAR(20), objekt VARCHAR(500), varde VARCHAR(60)"


Row = tuple[str, str, str, str]  # nämnd, kind, object, value as format(value, "f")


def history_rows(namnd: str, figures: list[Figure]) -> list[Row]:
    """A planbok's figures (see :func:`xlplan.extract.figure_texts`) as rows of nämnd ``namnd``."""
    return [(namnd, kind, obj, value) for kind, obj, value in figures]


class StagedRun:
    """This run's figures in the history database, not yet a recorded run: each used
    planbok's figures are staged as the file arrives (:meth:`add`), then :meth:`ready`."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.sa = store.sa
        self.conn: Any = None
        self.base_id: int | None = None
        try:
            store._guard(self._open)
        except BaseException:
            self.close()  # the caller never sees this object: nothing left open
            raise

    def _table(self, name: str) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({_COLUMNS})")

    def _index(self, name: str) -> None:
        """Once the table is filled: one sort instead of an index kept up row by row."""
        self.conn.exec_driver_sql(f"CREATE INDEX {name}_nyckel ON {name} (namnd, slag, objekt)")

    def _open(self) -> None:
        self.conn = self.store.engine.connect()
        self._table(STAGED)
        # the driver's own executemany with tuples: SQLAlchemy's per-row parameter handling
        # cost more than the database's insert
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(
            self.store.engine.dialect.paramstyle)
        self._insert: Any = (f"INSERT INTO {STAGED} (namnd, slag, objekt, varde) VALUES "
                             f"({', '.join([mark] * 4)})" if mark is not None
                             else self.sa.text(f"INSERT INTO {STAGED} (namnd, slag, objekt, "
                                               "varde) VALUES (:namnd, :slag, :objekt, :varde)"))
        self._driver = mark is not None

    def add(self, rows: list[Row]) -> None:
        """Stage ``rows`` (see :func:`history_rows`)."""
        if not rows:
            return

        def insert() -> None:
            if self._driver:
                self.conn.exec_driver_sql(self._insert, rows)
            else:
                names = ("namnd", "slag", "objekt", "varde")
                self.conn.execute(self._insert,
                                  [dict(zip(names, row, strict=True)) for row in rows])
        self.store._guard(insert)

    def ready(self) -> None:
        """Every figure staged: index them for the comparisons."""
        def index() -> None:
            self._index(STAGED)
            self.conn.commit()
        self.store._guard(index)

    def baseline(self, budgetar: int, rapportmanad: str | None) -> Baseline | None:
        """The run compared with (see :meth:`HistoryStore.baseline`), without its figures
        (they stay in the database: :meth:`changes`, :meth:`prognos_rows`)."""
        found = self.store.baseline_run(budgetar, rapportmanad)
        if found is None:
            return None
        label, self.base_id = found
        result: Baseline = self.store._guard(lambda: Baseline(label, self._copy_base()))
        return result

    def _copy_base(self) -> dict[Key, Decimal]:
        self._table(BASE)
        self.conn.execute(self.sa.text(
            f"INSERT INTO {BASE} (namnd, slag, objekt, varde) SELECT namnd, slag, objekt, varde "
            "FROM xlplan_nyckeltal WHERE korning = :run"), {"run": self.base_id})
        self._index(BASE)
        self.conn.commit()
        return {}

    def prognos_rows(self) -> Iterator[list[Any]]:
        """Förändringar's prognos table, a row at a time: per nämnd and område with a
        Helårsprognos (Totalt first), Budget, Helårsprognos and Avvikelse before and now.
        The database pivots the figures (one row per nämnd and område, the six values as
        columns) and sorts them."""
        kinds = ", ".join(f"'{k}'" for k in sorted(PROGNOS_KINDS))
        c = ' COLLATE "C"' if self.conn.dialect.name == "postgresql" else ""  # code points
        order = "CASE WHEN objekt = 'Totalt' THEN 0 ELSE 1 END"
        sides = [f"SELECT namnd, objekt, slag, varde, 1 AS sida FROM {STAGED} "
                 f"WHERE slag IN ({kinds})"]
        if self.base_id is not None:
            sides.append(f"SELECT namnd, objekt, slag, varde, 0 AS sida FROM {BASE} "
                         f"WHERE slag IN ({kinds})")
        cells = ", ".join(f"MAX(CASE WHEN slag = '{kind}' AND sida = {side} THEN varde END)"
                          for kind in ("budget", "prognos", "avvikelse") for side in (0, 1))
        query = (f"SELECT namnd, objekt, {cells} FROM ({' UNION ALL '.join(sides)}) AS u "
                 f"GROUP BY namnd, objekt ORDER BY namnd{c}, {order}, objekt{c}")
        try:
            for n, o, *texts in self.conn.exec_driver_sql(query):
                # before (side 0): a damaged stored value is skipped, naming its run
                values = [None if t is None else self._value(t) if i % 2 == 0 else Decimal(t)
                          for i, t in enumerate(texts)]
                if values[2] is not None or values[3] is not None:  # a Helårsprognos
                    yield [n, o, *values]
            self.conn.commit()
        except self.sa.exc.SQLAlchemyError as exc:
            from xlplan.errors import HistoryError

            raise HistoryError(f"Historikdatabasen kan inte användas: {type(exc).__name__}."
                               ) from exc

    def _value(self, text: str) -> Decimal | None:
        value = _decimal(text)
        if value is None and self.base_id is not None:
            self.store._skipped(self.base_id)
        return value

    def changes(self) -> list[Change]:
        """What differs from the baseline (as :func:`xlplan.store.changes`): the database
        finds the figures whose stored text differs or that one side lacks; only those are
        compared as numbers here."""
        def read() -> list[Change]:
            found: dict[Key, tuple[Decimal | None, Decimal | None]] = {}
            rows = self.conn.execute(self.sa.text(
                f"SELECT a.namnd, a.slag, a.objekt, b.varde, a.varde FROM {STAGED} a "
                f"LEFT JOIN {BASE} b ON b.namnd = a.namnd AND b.slag = a.slag "
                "AND b.objekt = a.objekt WHERE b.varde IS NULL OR b.varde <> a.varde"))
            for n, k, o, before, after in rows:
                found[(n, k, o)] = (None if before is None else self._value(before),
                                    Decimal(after))
            rows = self.conn.execute(self.sa.text(
                f"SELECT b.namnd, b.slag, b.objekt, b.varde FROM {BASE} b WHERE NOT EXISTS "
                f"(SELECT 1 FROM {STAGED} a WHERE a.namnd = b.namnd AND a.slag = b.slag "
                "AND a.objekt = b.objekt)"))
            for n, k, o, before in rows:
                value = self._value(before)
                if value is not None:
                    found[(n, k, o)] = (value, None)
            self.conn.commit()
            return [Change(n, k, o, b, a) for (n, k, o), (b, a) in sorted(found.items())
                    if b != a]
        result: list[Change] = self.store._guard(read)
        return result

    def record(self, budgetar: int, rapportmanad: str | None, inbox: str, files: int, *,
               out: str | None = None, out_sha256: str | None = None) -> int:
        """Store the run (as :meth:`HistoryStore.record`) with the staged figures."""
        def write() -> int:
            try:
                run_id = self.store.insert_run(self.conn, budgetar, rapportmanad, inbox, files,
                                               out=out, out_sha256=out_sha256)
                self.conn.execute(self.sa.text(
                    "INSERT INTO xlplan_nyckeltal (korning, namnd, slag, objekt, varde) "
                    f"SELECT :run, namnd, slag, objekt, varde FROM {STAGED}"), {"run": run_id})
                self.conn.commit()
            except BaseException:
                self.conn.rollback()
                raise
            return run_id
        result: int = self.store._guard(write)
        return result

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            for name in (STAGED, BASE):
                self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            self.conn.commit()
        except self.sa.exc.SQLAlchemyError:
            pass
        finally:
            self.conn.close()
            self.conn = None
