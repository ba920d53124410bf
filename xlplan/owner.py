"""Who a planbok belongs to: Info › Nämnd exactly as the validator reads it.

The server authorises a request on this answer, so it must be the same reading the
validation, the mail and the inbox's file name use: one :func:`xlplan.model.build_planbok`
(columns found by their headers Fält and Värde, the code normalised by
:func:`xlplan.model.namnd_code`). Anything that could be read two ways is refused: two Info
tables, two Nämnd rows, no Nämnd, or a code that is not one.
"""

from __future__ import annotations

from xlplan import contract as c
from xlplan.errors import XlplanError
from xlplan.io.raw import RawWorkbook
from xlplan.model import build_planbok


class OwnerUnclear(XlplanError):
    """The planbok does not say unambiguously which nämnd it belongs to."""


def planbok_owner(raw: RawWorkbook) -> str:
    """The nämnd code of Info › Nämnd, or OwnerUnclear with a Swedish message."""
    infos = [name for name in raw.tables if c.table_by_name(name) is c.INFO]
    if not infos:
        raise OwnerUnclear("Arbetsboken saknar tabellen Info, så den är ingen planbok enligt "
                           "mallen. Utgå från en mall från xlplan new.")
    if len(infos) > 1:
        raise OwnerUnclear(f"Arbetsboken har {len(infos)} tabeller som heter Info; det går inte "
                           "att avgöra vilken nämnd den hör till. Ta bort de extra tabellerna.")
    planbok, _ = build_planbok(raw)
    if c.norm("Nämnd") in planbok.info.repeated:
        raise OwnerUnclear("Tabellen Info har flera rader Nämnd; det går inte att avgöra vilken "
                           "nämnd planboken hör till. Behåll en rad.")
    if planbok.info.namnd is None:
        raise OwnerUnclear("Tabellen Info saknar en giltig Nämnd (kolumnerna Fält och Värde); "
                           "fyll i nämndens kod, t.ex. HSN, och försök igen.")
    return planbok.info.namnd
