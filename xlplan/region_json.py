"""The region as JSON (``xlplan consolidate --format json``); amounts as decimal strings."""

from __future__ import annotations

from typing import Any

from xlplan.numbers import to_json
from xlplan.region import Region


def region_to_json(region: Region) -> dict[str, Any]:
    """The region as ``xlplan consolidate --format json`` prints it."""
    return {
        "budgetar": region.budgetar,
        "namnder": list(region.used),
        "netto": {k: to_json(v) for k, v in region.netto.items()},
        "region_netto": to_json(region.region_netto),
        "finansiering": to_json(region.finansiering),
        "resultat": to_json(region.resultat),
        "investeringar_per_budgetansvar_tkr": {
            k: to_json(v) for k, v in region.investeringar_per_budgetansvar_tkr.items()},
        "interna_poster": {"intakter": to_json(region.interna[0]),
                           "kostnader": to_json(region.interna[1]),
                           "residual": to_json(region.interna[2])},
        "atgardsplan": {n: None if e.effekt_mkr is None else {
            "effekt": {str(y): to_json(v) for y, v in e.effekt_mkr.items()},
            "gap": to_json(e.gap_mkr),
            "tackningsgrad": ({str(y): to_json(v / e.gap_mkr) for y, v in e.effekt_mkr.items()}
                              if e.gap_mkr else None)} for n, e in region.used.items()},
        "prognos": {n: None if e.prognos_mkr is None else {
            "rapportmanad": e.rapportmanad, **dict(zip(
                ("budget", "utfall", "prognos", "avvikelse"), map(to_json, e.prognos_mkr),
                strict=True))} for n, e in region.used.items()},
        "omdisponeringar": [{"diarienummer": t.diarienummer, "status": t.status,
                             "netto": to_json(t.netto_mkr),
                             "parter": [n for n, _, _ in t.sides]} for t in region.transfers],
        "kontroll": [{"fil": f.file, **f.to_json()} for f in region.findings],
        "filer": [{"fil": f.name, "namnd": f.namnd, "sha256": f.sha256, "fel": f.errors,
                   "varningar": f.warnings, "anvand": f.used,
                   **({"orsak": f.reason} if f.reason else {})} for f in region.files],
    }


