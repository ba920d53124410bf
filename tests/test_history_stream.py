"""The history compared and recorded in the database (xlplan.history_stream) gives what the
in-memory comparison (xlplan.store.changes) gives."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from xlplan.changes import Change, changes
from xlplan.extract import figure_texts
from xlplan.history_stream import StagedRun, history_rows
from xlplan.store import HistoryStore


def test_streamed_comparison_and_record_match_the_in_memory_ones(tmp_path: Path) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.db'}")
    d = Decimal
    april = {("HSN", "netto", "Totalt"): d("-1253.0"), ("HSN", "prognos", "Medicin"): d("-10"),
             ("RS", "netto", "Totalt"): d("-390"), ("RS", "omrade", "Borttaget"): d("5"),
             ("RS", "omrade", "Trasigt"): d("7")}
    store.record(2025, "2025-04", "in", 2, april)
    with store.engine.begin() as conn:  # a value another program wrote: skipped, with a warning
        conn.exec_driver_sql("UPDATE xlplan_nyckeltal SET varde = 'abc' WHERE objekt = 'Trasigt'")
    # many figures (one nämnd's investments in one insert, as a large planbok's)
    may = {("HSN", "netto", "Totalt"): d("-1253.00"),  # the same number, written otherwise
           ("HSN", "prognos", "Medicin"): d("-12"), ("RS", "netto", "Totalt"): d("-400"),
           ("RS", "omrade", "Trasigt"): d("7"),
           **{("RUN", "investering", f"Objekt {i:05}"): d(i) for i in range(4007)}}
    staged = StagedRun(store)  # each nämnd's figures as a consolidation stages a planbok's
    for namnd in ("HSN", "RS", "RUN"):
        staged.add(history_rows(namnd, figure_texts(
            {(k, o): v for (n, k, o), v in may.items() if n == namnd})))
    staged.ready()
    baseline = staged.baseline(2025, "2025-05")
    assert baseline is not None and baseline.label == "2025-04"
    # Förändringar's prognos rows: only Medicin has a Helårsprognos (before −10, now −12)
    assert list(staged.prognos_rows()) == [["HSN", "Medicin", None, None, d("-10"), d("-12"),
                                            None, None]]
    streamed = staged.changes()
    before = store.baseline(2025, "2025-05")
    assert before is not None
    expected = changes(before.figures, may)
    assert streamed == expected
    # by hand: prognos −10 → −12, RS netto −390 → −400, Borttaget removed, Trasigt new (its
    # stored value was unreadable), and the 4 007 investments new; −1253.0 = −1253.00 unchanged
    assert len(streamed) == 4 + 4007
    assert Change("RS", "omrade", "Borttaget", d("5"), None) in streamed
    assert Change("RS", "omrade", "Trasigt", None, d("7")) in streamed
    assert any("inte ett tal" in w for w in store.warnings)
    run = staged.record(2025, "2025-05", "in", 3, out="ut.xlsx", out_sha256="ab" * 32)
    staged.close()
    runs = store.list_runs(2025)
    assert [(r.id, r.rapportmanad, r.antal_filer, r.utfil) for r in runs][-1] == (
        run, "2025-05", 3, "ut.xlsx")
    recorded = {key: v for r, key, v in store.figures_of(2025) if r.id == run}
    assert recorded == may
    store.close()
