"""xlplan: validate, compute and consolidate a region's planböcker (Excel).

The public API is small; names load on first use so the command line starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Report",
    "XlplanError",
    "__version__",
    "consolidate",
    "history_dataframe",
    "open_planbok",
    "send",
    "summarize",
    "validate",
]

_WHERE = {
    "Report": "xlplan.validation",
    "open_planbok": "xlplan.validation",
    "validate": "xlplan.validation",
    "XlplanError": "xlplan.errors",
    "summarize": "xlplan.summary.compute",
    "consolidate": "xlplan.consolidation",
    "send": "xlplan.mail",
    "history_dataframe": "xlplan.history",
}

if TYPE_CHECKING:
    from xlplan.consolidation import consolidate
    from xlplan.errors import XlplanError
    from xlplan.history import history_dataframe
    from xlplan.mail import send
    from xlplan.summary.compute import summarize
    from xlplan.validation import Report, open_planbok, validate


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'xlplan' has no attribute {name!r}")
