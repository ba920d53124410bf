"""Every validation rule, listed once. A rule is a pure function Planbok -> findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from xlplan.findings import Finding
from xlplan.model import Planbok
from xlplan.rules import atgardsplan, budgetram, common, investeringar, prognos, ramforandringar

Rule = Callable[[Planbok], Iterable[Finding]]

RULES: tuple[Rule, ...] = (
    common.run_generic,
    *budgetram.RULES,
    *atgardsplan.RULES,
    *investeringar.RULES,
    *ramforandringar.RULES,
    *prognos.RULES,
)
