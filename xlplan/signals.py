"""Steps a Ctrl-C or SIGTERM must not cut in two."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored for the block (in the main thread; elsewhere signals do not
    arrive): for a step that must not stop half-way, as stopping workers or a workbook
    replaced whose run is not yet recorded in the history."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                    signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
