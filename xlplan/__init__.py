"""xlplan: validate, compute and consolidate a region's planböcker (Excel)."""

from __future__ import annotations

from xlplan.errors import XlplanError
from xlplan.validate import Report, open_planbok, validate

__version__ = "0.1.0"

__all__ = ["Report", "XlplanError", "__version__", "open_planbok", "validate"]
