"""The region as JSON (``xlplan consolidate --format json``); amounts as decimal strings."""

from __future__ import annotations

from typing import Any

from xlplan.numbers import to_json
from xlplan.region import Region


def region_to_json(region: Region) -> dict[str, Any]:
    """The region as ``xlplan consolidate --format json`` prints it."""
    self = region
    return {
        "budgetar": self.budgetar,
        "namnder": list(self.used),
        "netto": {k: to_json(v) for k, v in self.netto.items()},
        "region_netto": to_json(self.region_netto),
        "finansiering": to_json(self.finansiering),
        "resultat": to_json(self.resultat),
        "investeringar_per_budgetansvar_tkr": {
            k: to_json(v) for k, v in self.investeringar_per_budgetansvar_tkr.items()},
        "interna_poster": {"intakter": to_json(self.interna[0]),
                           "kostnader": to_json(self.interna[1]),
                           "residual": to_json(self.interna[2])},
        "atgardsplan": {n: None if e.effekt_mkr is None else {
            "effekt": {str(y): to_json(v) for y, v in e.effekt_mkr.items()},
            "gap": to_json(e.gap_mkr),
            "tackningsgrad": ({str(y): to_json(v / e.gap_mkr) for y, v in e.effekt_mkr.items()}
                              if e.gap_mkr else None)} for n, e in self.used.items()},
        "prognos": {n: None if e.prognos_mkr is None else {
            "rapportmanad": e.rapportmanad, **dict(zip(
                ("budget", "utfall", "prognos", "avvikelse"), map(to_json, e.prognos_mkr),
                strict=True))} for n, e in self.used.items()},
        "omdisponeringar": [{"diarienummer": t.diarienummer, "status": t.status,
                             "netto": to_json(t.netto_mkr),
                             "parter": [n for n, _, _ in t.sides]} for t in self.transfers],
        "kontroll": [{"fil": f.file, **f.to_json()} for f in self.findings],
        "filer": [{"fil": f.name, "namnd": f.namnd, "sha256": f.sha256, "fel": f.errors,
                   "varningar": f.warnings, "anvand": f.used,
                   **({"orsak": f.reason} if f.reason else {})} for f in self.files],
    }


