"""History of consolidations (SQLAlchemy): SQLite by default, any URL (PostgreSQL) to share.

Each run stores the key figures per nämnd and business object. Values are kept as exact
decimal strings (SQLite's NUMERIC would round them through a float).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from xlplan.errors import HistoryError

Key = tuple[str, str, str]  # (nämnd, kind, object)

KIND_LABELS = {
    "netto": "Nettobudget (mkr)",
    "omrade": "Områdets netto (mkr)",
    "atgard": "Åtgärdens effekt budgetåret (mkr)",
    "investering": "Investering (tkr)",
}


@dataclass(frozen=True, slots=True)
class Change:
    namnd: str
    kind: str
    objekt: str
    before: Decimal | None
    after: Decimal | None

    @property
    def diff(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def what(self) -> str:
        if self.before is None:
            return "ny"
        if self.after is None:
            return "borttagen"
        return "ändrad"


def changes(before: dict[Key, Decimal], after: dict[Key, Decimal]) -> list[Change]:
    """What differs between two runs, per nämnd and business object (pure)."""
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b != a:
            out.append(Change(key[0], key[1], key[2], b, a))
    return out


class HistoryStore:
    def __init__(self, url: str) -> None:
        try:
            import sqlalchemy as sa
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise HistoryError("SQLAlchemy saknas; installera xlplan igen.") from exc
        self.sa = sa
        self.url = url
        try:
            connect_args: dict[str, Any] = {"timeout": 5} if url.startswith("sqlite") else {}
            self.engine = sa.create_engine(url, connect_args=connect_args)
        except Exception as exc:  # a malformed URL or a missing driver
            raise HistoryError(f"Historikdatabasen ({_safe(url)}) kan inte användas: "
                               f"{type(exc).__name__}.") from None
        meta = sa.MetaData()
        self.runs = sa.Table(
            "xlplan_korningar", meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("tid", sa.String(32), nullable=False),
            sa.Column("budgetar", sa.Integer, nullable=False, index=True),
            sa.Column("inkorg", sa.String(1000), nullable=False),
            sa.Column("antal_filer", sa.Integer, nullable=False),
        )
        self.figures = sa.Table(
            "xlplan_nyckeltal", meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("korning", sa.Integer, sa.ForeignKey("xlplan_korningar.id"), index=True,
                      nullable=False),
            sa.Column("namnd", sa.String(20), nullable=False),
            sa.Column("slag", sa.String(20), nullable=False),
            sa.Column("objekt", sa.String(500), nullable=False),
            sa.Column("varde", sa.String(60), nullable=False),
        )
        self.meta = meta
        self.warnings: list[str] = []  # stored values that were skipped, naming their run
        self._guard(self._create)

    def _create(self) -> None:
        """Create the tables if missing. Several first runs at once (a fresh database) may
        all see them missing and race to create them: the loser finds them made and goes on."""
        for attempt in range(3):
            try:
                self.meta.create_all(self.engine)
                return
            except (self.sa.exc.OperationalError, self.sa.exc.ProgrammingError,
                    self.sa.exc.IntegrityError):
                if attempt == 2:
                    raise
                # "table ... already exists" (or a unique type/sequence name in PostgreSQL):
                # the other run made it; create_all checks first and now skips it

    def _value(self, text: str, run: Any) -> Decimal | None:
        """A stored value, or None (with a warning naming the run) if it is not a finite
        number: one damaged row never stops a later month."""
        try:
            value = Decimal(text)
        except (InvalidOperation, TypeError, ValueError):
            value = None
        if value is None or not value.is_finite() or value.adjusted() > 30:  # 10^30: no figure
            self.warnings.append(f"Ett sparat värde i körningen {run.id} ({run.tid}) är inte ett "
                                 "tal och hoppades över.")
            return None
        return value

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except self.sa.exc.SQLAlchemyError as exc:
            text = str(exc).lower()
            reason = ("databasen är låst" if "locked" in text
                      else "disken är full" if "full" in text else type(exc).__name__)
            raise HistoryError(f"Historikdatabasen ({_safe(self.url)}) kan inte användas: "
                               f"{reason}.") from None

    def latest(self, budgetar: int) -> tuple[str, dict[Key, Decimal]] | None:
        """The figures of the most recent run for ``budgetar``: (time, figures)."""
        def read() -> tuple[str, dict[Key, Decimal]] | None:
            sa = self.sa
            with self.engine.connect() as conn:
                run = conn.execute(
                    sa.select(self.runs.c.id, self.runs.c.tid)
                    .where(self.runs.c.budgetar == budgetar)
                    .order_by(self.runs.c.id.desc()).limit(1)).first()
                if run is None:
                    return None
                rows = conn.execute(sa.select(self.figures.c.namnd, self.figures.c.slag,
                                              self.figures.c.objekt, self.figures.c.varde)
                                    .where(self.figures.c.korning == run.id))
                out = {}
                for r in rows:
                    value = self._value(r.varde, run)
                    if value is not None:
                        out[(r.namnd, r.slag, r.objekt)] = value
                return run.tid, out
        result: tuple[str, dict[Key, Decimal]] | None = self._guard(read)
        return result

    def record(self, budgetar: int, inbox: str, files: int, figures: dict[Key, Decimal],
               when: dt.datetime | None = None) -> int:
        def write() -> int:
            stamp = (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
            with self.engine.begin() as conn:
                key = conn.execute(self.runs.insert().values(
                    tid=stamp, budgetar=budgetar, inkorg=inbox[:1000], antal_filer=files
                )).inserted_primary_key
                assert key is not None
                run_id = key[0]
                if figures:
                    conn.execute(self.figures.insert(), [
                        {"korning": run_id, "namnd": n, "slag": k, "objekt": o[:500],
                         "varde": format(v, "f")} for (n, k, o), v in figures.items()])
                return int(run_id)
        result: int = self._guard(write)
        return result

    def trend(self, budgetar: int) -> list[tuple[str, str, Decimal]]:
        """Net budget per nämnd, run by run: (time, nämnd, netto mkr)."""
        def read() -> list[tuple[str, str, Decimal]]:
            sa = self.sa
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(self.runs.c.id, self.runs.c.tid, self.figures.c.namnd,
                              self.figures.c.varde)
                    .join(self.figures, self.figures.c.korning == self.runs.c.id)
                    .where(self.runs.c.budgetar == budgetar, self.figures.c.slag == "netto")
                    .order_by(self.runs.c.id, self.figures.c.namnd))
                return [(r.tid, r.namnd, v) for r in rows
                        if (v := self._value(r.varde, r)) is not None]
        result: list[tuple[str, str, Decimal]] = self._guard(read)
        return result

    def close(self) -> None:
        self.engine.dispose()


def _safe(url: str) -> str:
    """A URL for messages: never with its password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
