"""Every limit on what xlplan will read or do for one file, in one place.

A planbok is a few hundred kilobytes with a few thousand filled cells. Each limit is far
above any real planbok and far below what would hurt the machine (memory, time), so that a
crafted or broken file is refused with a reason before it costs anything. The README's
security section explains them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# --- the container (checked before any XML parser runs) ------------------------------------
MAX_FILE_BYTES = 50 * 1024 * 1024  # on disk
MAX_MEMBERS = 2_000  # entries in the zip
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one part, unpacked
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all parts, unpacked
MAX_RATIO = 200  # unpacked / packed, for parts over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024

# --- the work (checked while reading, before anything is allocated for it) ----------------
MAX_TABLE_CELLS = 100_000  # cells of one table (rows x columns), after clamping its ref
MAX_SHEET_CELLS = 300_000  # filled cells kept from one sheet (inside any of its tables)
MAX_BOOK_CELLS = 500_000  # cells of all tables of a workbook together
MAX_TEXT_CHARS = 32_767  # one cell's text: Excel's own limit, so no Excel file exceeds it
MAX_NUMBER_CHARS = 64  # one number literal as stored (a double needs at most 24)
MAX_FINDINGS = 1_000  # findings listed per file; the rest are summed up in one finding

# --- numbers ---------------------------------------------------------------------------------
# Excel holds 15 significant digits; no amount of a region reaches 10^15 of any unit. A value
# this large is a broken or crafted cell: an error at its cell, never a figure (so no sum of
# a workbook's cells can overflow or become infinite).
MAX_MAGNITUDE = Decimal("1E15")


@dataclass(frozen=True, slots=True)
class Limits:
    file_bytes: int = MAX_FILE_BYTES
    members: int = MAX_MEMBERS
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: int = MAX_RATIO
    table_cells: int = MAX_TABLE_CELLS
    sheet_cells: int = MAX_SHEET_CELLS
    book_cells: int = MAX_BOOK_CELLS
    text_chars: int = MAX_TEXT_CHARS


DEFAULT_LIMITS = Limits()
