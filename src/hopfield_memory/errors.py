"""The package's exceptions: one base, each also a fitting builtin so plain ``except`` works."""

from __future__ import annotations


class HopfieldMemoryError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidInputError(HopfieldMemoryError, ValueError):
    """An argument has the right type but a value we cannot use (empty text, NaN, top_k < 1)."""


class InvalidTypeError(HopfieldMemoryError, TypeError):
    """An argument has the wrong type (a number where text was expected, ...)."""


class DimensionMismatchError(InvalidInputError):
    """A vector or matrix does not have the dimension the memory or encoder expects."""


class UnknownIdError(HopfieldMemoryError, KeyError):
    """A fact id that the memory does not hold (never stored, or forgotten)."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class RepulsionDisabledError(HopfieldMemoryError, RuntimeError):
    """A negative-pattern call on a memory built with ``repulsive=False``."""


class EmptyMemoryError(HopfieldMemoryError, LookupError):
    """A call that must return a fact was made on a memory that holds none."""


class MissingExtraError(HopfieldMemoryError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class EncoderUnavailableError(HopfieldMemoryError, FileNotFoundError):
    """The encoder's model is not available on this machine (nothing is ever downloaded)."""


class EncoderRequestError(HopfieldMemoryError, RuntimeError):
    """The embeddings endpoint refused a request, or kept failing after every retry.

    Attributes
    ----------
    status_code : int or None
        HTTP status of the last answer; None when no answer came (connection failure).
    attempts : int
        Requests made for this batch, retries included.
    """

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status_code = status_code
        self.attempts = attempts


class EncoderCredentialsError(EncoderRequestError):
    """No API key was given, or the endpoint rejected it (401/403)."""


class EncoderMismatchError(HopfieldMemoryError, ValueError):
    """Stored vectors were made by a different encoder than the one offered to read them."""


class PersistenceFormatError(HopfieldMemoryError, ValueError):
    """A file is not a memory this version can read (truncated, wrong magic, newer version...)."""


class PersistenceNotFoundError(HopfieldMemoryError, FileNotFoundError):
    """A memory file (snapshot or durable store) does not exist where it was looked for."""


class UnknownNamespaceError(HopfieldMemoryError, LookupError):
    """A namespace that the memory file does not hold (and may not create)."""


class StoreBusyError(HopfieldMemoryError, TimeoutError):
    """Another process held the durable store's write lock for longer than the timeout."""


class ColdTierUnavailableError(HopfieldMemoryError, ConnectionError):
    """The database behind a cold tier cannot be reached or refused the request."""


class MemoryClosedError(HopfieldMemoryError, ValueError):
    """A call on a durable memory after :meth:`~hopfield_memory.HopfieldMemory.close`."""


def missing_extra(package: str, extra: str) -> MissingExtraError:
    """Build the error raised when ``package`` is needed but the ``extra`` is not installed."""
    return MissingExtraError(
        f"{package} is not installed; install it with `pip install 'mhn-ai-agent-memory[{extra}]'`"
    )
