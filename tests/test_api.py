"""The public API is small and every name in it works."""

from __future__ import annotations

import xlplan


def test_public_api_is_what_all_says() -> None:
    assert xlplan.__all__ == sorted(xlplan.__all__)
    assert set(xlplan.__all__) == {"Report", "XlplanError", "__version__", "consolidate",
                                   "history_dataframe", "open_planbok", "send", "summarize", "validate"}
    for name in xlplan.__all__:
        assert getattr(xlplan, name) is not None
    assert callable(xlplan.validate) and callable(xlplan.consolidate)
    assert issubclass(xlplan.XlplanError, Exception)


def test_unknown_names_are_attribute_errors() -> None:
    import pytest

    with pytest.raises(AttributeError):
        _ = xlplan.does_not_exist  # type: ignore[attr-defined]
