"""Progress reporting for long batch work (encoding thousands of facts).

Uses tqdm when it is installed and a terminal is watching (or when asked); otherwise logs at INFO
level every few seconds, so a service still shows that work moves. Never writes into a pipe
uninvited.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

logger = logging.getLogger(__name__)

# Batches at least this large show progress by default.
AUTO_THRESHOLD = 10_000
_LOG_EVERY_SECONDS = 5.0


class Advance(Protocol):
    def __call__(self, done: int) -> None: ...


@contextmanager
def progress(total: int, description: str, enabled: bool | None) -> Iterator[Advance]:
    """Yield ``advance(n)``; shows a bar when ``enabled`` (None: when ``total`` is large and
    stderr is a terminal)."""
    if enabled is None:
        enabled = total >= AUTO_THRESHOLD and sys.stderr.isatty()
    if not enabled:
        yield _log_progress(total, description)
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _log_progress(total, description)
        return
    bar = tqdm(total=total, desc=description, unit="text", file=sys.stderr, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def _log_progress(total: int, description: str) -> Advance:
    """An ``advance`` that logs at INFO level every few seconds and at the end."""
    state = {"done": 0, "last": time.monotonic()}

    def advance(done: int) -> None:
        state["done"] += done
        now = time.monotonic()
        if now - state["last"] >= _LOG_EVERY_SECONDS or state["done"] >= total:
            state["last"] = now
            logger.info("%s: %d/%d", description, state["done"], total)

    return advance
