"""What the history compares: figures keyed by (nämnd, kind, object), a baseline run's
figures, and what changed between two runs (pure; the store in store.py keeps them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

Key = tuple[str, str, str]  # (nämnd, kind, object)

KIND_LABELS = {
    "netto": "Nettobudget (mkr)",
    "omrade": "Områdets netto (mkr)",
    "atgard": "Åtgärdens effekt budgetåret (mkr)",
    "investering": "Investering (tkr)",
    "budget": "Prognos: budget (mkr)",
    "prognos": "Helårsprognos (mkr)",
    "avvikelse": "Avvikelse (mkr)",
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


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a run is compared with: a label for the user and the figures."""

    label: str
    figures: dict[Key, Decimal]


def changes(before: dict[Key, Decimal], after: dict[Key, Decimal]) -> list[Change]:
    """What differs between two runs, per nämnd and business object (pure)."""
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b != a:
            out.append(Change(key[0], key[1], key[2], b, a))
    return out
