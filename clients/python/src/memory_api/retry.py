"""When to try a request again: 429 and 503 answers (and a 409 that asks to wait), honouring
`Retry-After`, within bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .errors import ApiError, Conflict, RateLimited, Unavailable


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of 429 (rate limited) and 503 (unavailable) answers.

    The wait is the answer's `Retry-After` when it has one, else an exponential backoff
    (`backoff`, doubled each time, at most `max_backoff`). A call gives up, raising the last
    error, after `max_attempts` tries in all or when the next wait would take the time spent
    waiting past `max_total_wait` seconds.

    A 429 is refused before the server does any work, so every request is retried after one.
    A 503 may come after the work was done (the server answers 503 to a request that outlasts
    its time limit, and the write still lands): a write that is not idempotent is then not
    retried, since that could store the memories twice, unless `retry_unsafe` is set.

    Creating a collection and adding memories are made idempotent by an `Idempotency-Key`: the
    clients send one on every such call (the caller's, or a fresh UUID per call), the same on
    each of its tries, so a retry after a 503 gets the first try's answer instead of writing
    again. While that first try still runs, the server answers the retry 409 with `Retry-After`,
    which is waited out and retried like a 429. An import whose lines all have ids (an upsert),
    or a bulk delete by ids, is idempotent too; a bulk delete by filter is not (a repeat would
    delete the next `limit` matches).
    """

    max_attempts: int = 3
    max_total_wait: float = 60.0
    backoff: float = 0.5
    max_backoff: float = 8.0
    retry_unsafe: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (1 = no retry)")
        if self.max_total_wait < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("waits must not be negative")

    def delay(self, error: ApiError, attempt: int, waited: float, idempotent: bool, keyed: bool = False) -> Optional[float]:
        """Seconds to wait before try `attempt + 1`, or None to give up and raise `error`.

        `keyed`: the request carries an `Idempotency-Key` (a 409 with `Retry-After` then means
        its first try still runs)."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, RateLimited):
            pass
        elif isinstance(error, Conflict):
            # the same Idempotency-Key's first request still runs: its answer comes shortly
            if not keyed or error.retry_after is None:
                return None
        elif isinstance(error, Unavailable):
            if not idempotent and not self.retry_unsafe:
                return None
        else:
            return None
        asked = error.retry_after
        wait = asked if asked is not None else min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        if waited + wait > self.max_total_wait:
            return None
        return wait


NO_RETRY = RetryPolicy(max_attempts=1)
"""Raise 429 and 503 answers at once."""


@dataclass(frozen=True)
class RetryEvent:
    """Passed to a client's `on_retry` before it waits (for logging or metrics)."""

    method: str
    path: str
    #: the try that failed (1 = the first)
    attempt: int
    #: seconds the client will now wait
    delay: float
    error: ApiError


OnRetry = Callable[[RetryEvent], None]
