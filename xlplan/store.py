"""History of consolidations (SQLAlchemy): SQLite by default, any URL (PostgreSQL) to share.

A run belongs to (budget year, Rapportmånad). It stores the key figures per nämnd and
business object. Re-running a month supersedes that month's earlier run: the earlier one is
kept (``ersatt_av`` names its successor) but leaves Trend and Förändringar. Values are kept
as exact decimal strings (SQLite's NUMERIC would round them through a float). The schema is
migrated with Alembic (``xlplan/migrations``) when a store is opened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from xlplan.changes import Baseline, Key
from xlplan.errors import HistoryError

POSTGRES_HINT = "Installera drivrutinen: pip install 'xlplan[postgres]'."


@dataclass(frozen=True, slots=True)
class Run:
    """One recorded run, as ``xlplan historik`` lists it."""

    id: int
    budgetar: int
    rapportmanad: str | None
    tid: str
    antal_filer: int
    inkorg: str
    utfil: str | None
    utfil_sha256: str | None
    ersatt_av: int | None

    @property
    def active(self) -> bool:
        return self.ersatt_av is None


def _decimal(text: str) -> Decimal | None:
    """A stored value, or None when it is not a finite number of sane size (a value another
    program wrote, ``Infinity``, ``NaN``, ``abc``): skipped, never a crash."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not value.is_finite() or value.adjusted() > 30:  # 10^30: no figure of a region
        return None
    return value


def unusable(url: str, exc: BaseException) -> str:
    """Why the database at ``url`` cannot be used, and what to do: Swedish sentences."""
    name = type(exc).__name__
    if isinstance(exc, ImportError):
        if url.startswith("postgresql"):
            return f"drivrutinen för PostgreSQL saknas. {POSTGRES_HINT}"
        return (f"drivrutinen för den databasen saknas ({name}). Använd sqlite:///FIL.db eller "
                f"postgresql+psycopg://…; för PostgreSQL: {POSTGRES_HINT}")
    if name in ("NoSuchModuleError", "ArgumentError"):
        return ("adressen är ingen databasadress xlplan kan använda. Skriv t.ex. "
                "sqlite:///xlplan-historik.db eller postgresql+psycopg://användare@värd/databas "
                "i --db eller inställningen databas.")
    said = str(exc).lower()
    if "readonly" in said or "read-only" in said:
        return ("databasfilen är skrivskyddad, och xlplan behöver skriva i den. Be om skrivrätt "
                "eller ange en annan med --db.")
    if "locked" in said or "lock timeout" in said:
        return "databasen är låst av ett annat program. Försök igen om en stund."
    if "full" in said:
        return "disken är full. Frigör utrymme och kör igen."
    lost = ("server closed the connection", "terminating connection", "connection is lost",
            "consuming input failed", "connection already closed")
    if any(words in said for words in lost):
        return ("förbindelsen med databasservern bröts under körningen. Kontrollera servern "
                "och kör igen.")
    if name == "OperationalError":
        if url.startswith("sqlite"):
            return ("databasfilen går inte att öppna (finns mappen, och får du skriva där?). "
                    "Ange en annan med --db.")
        return ("databasservern svarar inte eller nekar inloggningen. Kontrollera värd, port, "
                "användare, lösenord och databasnamn i adressen, och att servern är igång.")
    return (f"databasen svarade med ett fel ({name}). Kontrollera att adressen pekar på "
            "xlplans historikdatabas.")


HEAD = "0003"  # the newest revision in migrations/versions (a test holds them equal)


READABLE = frozenset({"0002", HEAD})  # revisions whose tables this release reads as they are
# (0003 only makes SQLite keep run ids): a history only read is not migrated from them, so a
# read-only file still lists and exports


class HistoryStore:
    def __init__(self, url: str, read_only: bool = False) -> None:
        """``read_only``: the caller only reads (a listing, an export), so a history at a
        :data:`READABLE` revision is read as it is, without the migration that would write."""
        try:
            import sqlalchemy as sa
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise HistoryError("SQLAlchemy saknas; installera xlplan igen.") from exc
        self.sa = sa
        self.url = url
        self.read_only = read_only
        try:
            connect_args: dict[str, Any] = {"timeout": 5} if url.startswith("sqlite") else {}
            libpq = url.split("://", 1)[0] in ("postgresql", "postgresql+psycopg",
                                               "postgresql+psycopg2")
            if libpq and "connect_timeout" not in sa.engine.make_url(url).query:
                # a server that never answers gives up as SQLite's 5 s busy timeout does,
                # instead of waiting for ever (a timeout in the URL is the user's choice)
                connect_args = {"connect_timeout": 5}
            self.engine = sa.create_engine(url, connect_args=connect_args)
            if libpq:
                # a lock held on the history's tables: the same 5 s, set per session (not as
                # a startup option, which would replace the URL's own options= and which
                # connection poolers refuse)
                sa.event.listen(self.engine, "connect", _lock_timeout)
                # the driver's own log lines (English, e.g. a connection lost mid-run) stay
                # off the terminal: the run says in Swedish what happened to the history
                _quiet("psycopg")
        except Exception as exc:  # a malformed URL or a missing driver
            raise HistoryError(f"Historikdatabasen ({_safe(url)}) kan inte användas: "
                               f"{unusable(url, exc)}") from None
        meta = sa.MetaData()
        self.runs = sa.Table(
            "xlplan_korningar", meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("tid", sa.String(32), nullable=False),
            sa.Column("budgetar", sa.Integer, nullable=False, index=True),
            sa.Column("inkorg", sa.String(1000), nullable=False),
            sa.Column("antal_filer", sa.Integer, nullable=False),
            sa.Column("rapportmanad", sa.String(7), nullable=True),
            sa.Column("ersatt_av", sa.Integer, nullable=True),
            sa.Column("utfil", sa.String(1000), nullable=True),
            sa.Column("utfil_sha256", sa.String(64), nullable=True),
            sqlite_autoincrement=True,  # an id is never given twice (migration 0003)
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
        self.warnings: list[str] = []  # stored values skipped, naming their run
        self._guard(self._migrate)

    def _current(self) -> bool:
        """Is the schema at :data:`HEAD` already (or, for a reader, at a :data:`READABLE`
        revision)? (Then Alembic, a tenth of a second to import and run, is not needed.) Any
        doubt: False, and Alembic decides."""
        try:
            with self.engine.connect() as conn:
                found = conn.exec_driver_sql("SELECT version_num FROM xlplan_alembic_version").all()
        except self.sa.exc.SQLAlchemyError:
            return False  # no version table yet (a new or a first-release database)
        versions = [tuple(r) for r in found]
        if self.read_only:
            return len(versions) == 1 and versions[0][0] in READABLE
        return versions == [(HEAD,)]

    def _migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic); a database the first release
        made (no version table) is adopted by the baseline revision and upgraded."""
        if self._current():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location",
                               str(Path(__file__).resolve().parent / "migrations"))
        with self.engine.connect() as conn:
            # one migrator at a time: a second process waits, then finds nothing to do
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7306090416)")
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except self.sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"Historikdatabasen ({_safe(self.url)}) kan inte användas: "
                               f"{unusable(self.url, exc)}") from None

    def _figures(self, conn: Any, run_id: int) -> dict[Key, Decimal]:
        f = self.figures.c
        rows = conn.execute(self.sa.select(f.namnd, f.slag, f.objekt, f.varde)
                            .where(f.korning == run_id))
        out = {}
        for r in rows:
            value = _decimal(r.varde)
            if value is None:
                self._skipped(run_id)
            else:
                out[(r.namnd, r.slag, r.objekt)] = value
        return out

    def _skipped(self, run_id: int) -> None:
        """A stored value that is not a number was skipped: one warning per run, naming it."""
        warning = f"Ett sparat värde i körningen {run_id} är inte ett tal och hoppades över."
        if warning not in self.warnings:
            self.warnings.append(warning)

    def baseline(self, budgetar: int, rapportmanad: str | None) -> Baseline | None:
        """What a run for (``budgetar``, ``rapportmanad``) is compared with: the newest
        earlier month's run; for the year's first month recorded, that month's run being
        replaced. None when there is neither (or the run has no month)."""
        found = self.baseline_run(budgetar, rapportmanad)
        if found is None:
            return None
        label, run_id = found

        def read() -> Baseline:
            with self.engine.connect() as conn:
                return Baseline(label, self._figures(conn, run_id))
        result: Baseline = self._guard(read)
        return result

    def baseline_run(self, budgetar: int, rapportmanad: str | None) -> tuple[str, int] | None:
        """(label, run id) of the run :meth:`baseline` compares with, without its figures."""
        if rapportmanad is None:
            return None

        def read() -> tuple[str, int] | None:
            r = self.runs.c
            active = [r.budgetar == budgetar, r.ersatt_av.is_(None), r.rapportmanad.is_not(None)]
            with self.engine.connect() as conn:
                run = conn.execute(
                    self.sa.select(r.id, r.rapportmanad).where(*active,
                                                             r.rapportmanad < rapportmanad)
                    .order_by(r.rapportmanad.desc(), r.id.desc()).limit(1)).first()
                if run is not None:
                    return str(run.rapportmanad), int(run.id)
                run = conn.execute(
                    self.sa.select(r.id, r.tid).where(*active, r.rapportmanad == rapportmanad)
                    .order_by(r.id.desc()).limit(1)).first()
                if run is not None:
                    return f"{rapportmanad} (förra körningen, {run.tid})", int(run.id)
                return None
        result: tuple[str, int] | None = self._guard(read)
        return result

    def insert_run(self, conn: Any, budgetar: int, rapportmanad: str | None, inbox: str,
                   files: int, *, out: str | None = None, out_sha256: str | None = None,
                   when: dt.datetime | None = None) -> int:
        """Insert a run's row on ``conn`` (inside the caller's transaction) and mark an earlier
        active run of the same month as superseded by it; its figures are the caller's."""
        r = self.runs.c
        stamp = (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        key = conn.execute(self.runs.insert().values(
            tid=stamp, budgetar=budgetar, inkorg=inbox[:1000], antal_filer=files,
            rapportmanad=rapportmanad, utfil=out[:1000] if out else None,
            utfil_sha256=out_sha256)).inserted_primary_key
        assert key is not None
        run_id = int(key[0])
        if rapportmanad is not None:
            conn.execute(self.runs.update().where(
                r.budgetar == budgetar, r.rapportmanad == rapportmanad,
                r.ersatt_av.is_(None), r.id != run_id).values(ersatt_av=run_id))
        return run_id

    def record(self, budgetar: int, rapportmanad: str | None, inbox: str, files: int,
               figures: dict[Key, Decimal], *, out: str | None = None,
               out_sha256: str | None = None, when: dt.datetime | None = None) -> int:
        """Store a run; an earlier active run of the same month is marked as superseded."""
        def write() -> int:
            with self.engine.begin() as conn:
                run_id = self.insert_run(conn, budgetar, rapportmanad, inbox, files, out=out,
                                         out_sha256=out_sha256, when=when)
                if figures:
                    conn.execute(self.figures.insert(), [
                        {"korning": run_id, "namnd": n, "slag": k, "objekt": o[:500],
                         "varde": format(v, "f")} for (n, k, o), v in figures.items()])
                return run_id
        result: int = self._guard(write)
        return result

    def trend(self, budgetar: int) -> list[tuple[str, str, Decimal]]:
        """Net budget per nämnd, month by month (active runs only): (month, nämnd, mkr)."""
        def read() -> list[tuple[str, str, Decimal]]:
            r, f = self.runs.c, self.figures.c
            with self.engine.connect() as conn:
                rows = conn.execute(
                    self.sa.select(r.id, r.rapportmanad, f.namnd, f.varde)
                    .join(self.figures, f.korning == r.id)
                    .where(r.budgetar == budgetar, r.ersatt_av.is_(None),
                           r.rapportmanad.is_not(None), f.slag == "netto")
                    .order_by(r.rapportmanad, f.namnd))
                out = []
                for row in rows:
                    value = _decimal(row.varde)
                    if value is None:
                        self._skipped(row.id)
                    else:
                        out.append((row.rapportmanad, row.namnd, value))
                return out
        result: list[tuple[str, str, Decimal]] = self._guard(read)
        return result

    def list_runs(self, budgetar: int | None = None) -> list[Run]:
        """Every run (superseded ones too), oldest first."""
        def read() -> list[Run]:
            r = self.runs.c
            query = self.sa.select(self.runs).order_by(r.budgetar, r.rapportmanad, r.id)
            if budgetar is not None:
                query = query.where(r.budgetar == budgetar)
            with self.engine.connect() as conn:
                return [Run(row.id, row.budgetar, row.rapportmanad, row.tid, row.antal_filer,
                            row.inkorg, row.utfil, row.utfil_sha256, row.ersatt_av)
                        for row in conn.execute(query)]
        result: list[Run] = self._guard(read)
        return result

    def figures_of(self, budgetar: int | None = None) -> list[tuple[Run, Key, Decimal]]:
        """Every stored figure with its run (for export), oldest run first."""
        def read() -> list[tuple[Run, Key, Decimal]]:
            runs = {run.id: run for run in self.list_runs(budgetar)}
            f = self.figures.c
            out = []
            with self.engine.connect() as conn:
                query = (self.sa.select(f.korning, f.namnd, f.slag, f.objekt, f.varde)
                         .where(f.korning.in_(list(runs)))
                         .order_by(f.korning, f.namnd, f.slag, f.objekt))
                for row in conn.execute(query):
                    value = _decimal(row.varde)
                    if value is not None:
                        out.append((runs[row.korning], (row.namnd, row.slag, row.objekt), value))
            return out
        result: list[tuple[Run, Key, Decimal]] = self._guard(read)
        return result

    def remove(self, run_id: int) -> Run | None:
        """Delete a run and its figures. If it was its month's active run, the newest run it
        superseded becomes active again. Returns the removed run (None: no such run)."""
        def write() -> Run | None:
            r = self.runs.c
            found = [run for run in self.list_runs() if run.id == run_id]
            if not found:
                return None
            with self.engine.begin() as conn:
                conn.execute(self.figures.delete().where(self.figures.c.korning == run_id))
                conn.execute(self.runs.delete().where(r.id == run_id))
                previous = conn.execute(self.sa.select(r.id).where(r.ersatt_av == run_id)
                                        .order_by(r.id.desc()).limit(1)).first()
                if previous is not None:
                    successor = found[0].ersatt_av  # None when the removed run was active
                    conn.execute(self.runs.update().where(r.ersatt_av == run_id)
                                 .values(ersatt_av=successor))
                    if successor is None:  # only the newest of them is active again
                        conn.execute(self.runs.update().where(
                            r.budgetar == found[0].budgetar,
                            r.rapportmanad == found[0].rapportmanad,
                            r.ersatt_av.is_(None), r.id != previous.id)
                            .values(ersatt_av=previous.id))
            return found[0]
        result: Run | None = self._guard(write)
        return result

    def close(self) -> None:
        self.engine.dispose()


def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
    """A new PostgreSQL session waits at most 5 s for a lock."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET lock_timeout = '5s'")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _quiet(name: str) -> None:
    """No log record of the library ``name`` reaches the terminal through Python's last-resort
    handler (an application that configures logging still gets them)."""
    import logging

    logger = logging.getLogger(name)
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _safe(url: str) -> str:
    """A URL for messages: never with its password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user, colon, _ = creds.partition(":")
        return f"{scheme}://{user}{':***' if colon else ''}@{host}"  # no password: none shown
    return url
