"""Exceptions: every error answer of the API (RFC 9457 problem+json) becomes an ApiError subclass."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any, Dict, Mapping, Optional, Type

import httpx


class MemoryApiError(Exception):
    """Root of every exception this client raises."""


class ApiConnectionError(MemoryApiError):
    """The server could not be reached, or the connection failed mid-request."""


class ApiTimeoutError(ApiConnectionError):
    """No answer within the client's timeout (the request may still have been applied)."""


class ApiError(MemoryApiError):
    """An error answer: the fields of the problem+json body, plus the status and headers."""

    def __init__(
        self,
        status: int,
        *,
        type: str = "about:blank",
        title: str = "",
        detail: str = "",
        code: str = "",
        field: Optional[str] = None,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.code = code
        self.field = field
        self.request_id = request_id
        self.headers: Dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.body = body
        super().__init__(self._message())

    def _message(self) -> str:
        label = f"{self.status} {self.code}" if self.code else str(self.status)
        text = self.detail or self.title or "error"
        return f"{label}: {text}" + (f" (request {self.request_id})" if self.request_id else "")


class BadRequest(ApiError):
    """400: the body was not JSON."""


class AuthenticationError(ApiError):
    """401: a missing, malformed, expired, tampered or revoked token."""


class PermissionDenied(ApiError):
    """403: allowed only to another tier (e.g. `rerank` needs pro or enterprise) or scope."""


class NotFound(ApiError):
    """404: a collection, memory or entity that does not exist for this caller."""


class PayloadTooLarge(ApiError):
    """413: the body is over the server's limit."""


class ValidationError(ApiError):
    """422: an invalid field, named in `field` (e.g. `memories[3].content`)."""


class _RetryAfter:
    """Mixin for answers that say when to try again."""

    headers: Dict[str, str]

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds the server asked to wait (`Retry-After`), or None when it did not say."""
        return parse_retry_after(self.headers.get("retry-after"))


class RateLimited(_RetryAfter, ApiError):
    """429: the tier's budget per minute is spent; `retry_after` says when it is not."""

    @property
    def limit(self) -> Optional[int]:
        return _int_header(self.headers, "ratelimit-limit")

    @property
    def remaining(self) -> Optional[int]:
        return _int_header(self.headers, "ratelimit-remaining")

    @property
    def reset(self) -> Optional[int]:
        return _int_header(self.headers, "ratelimit-reset")


class Conflict(_RetryAfter, ApiError):
    """409: e.g. a collection name the caller already uses, or an `Idempotency-Key` used for
    another request. With `retry_after`: the first request with this key is still running."""


class ServerError(ApiError):
    """5xx: the server failed."""


class Unavailable(_RetryAfter, ServerError):
    """503: overloaded, a dependency down, or a request past the server's time limit."""


_BY_STATUS: Dict[int, Type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: ValidationError,
    429: RateLimited,
    503: Unavailable,
}


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ExportInterrupted(MemoryApiError):
    """An export stream that kept breaking off (the connection, an `{"error"}` line, or an end
    without the final checkpoint) more times in a row than allowed. `cursor` is the last
    checkpoint reached: `export_memories(..., cursor=error.cursor)` goes on from there (None: from
    the start, or where the call began). `__cause__` is the last failure (`error`)."""

    def __init__(self, message: str, *, cursor: Optional[str], error: Optional[BaseException]) -> None:
        super().__init__(message)
        self.cursor = cursor
        self.error = error


class ImportInterrupted(MemoryApiError):
    """An import that stopped part-way: the lines before `resume_at_line` (numbered from 1 over
    everything given to `import_memories`) are done, written or reported in `failed`; send the
    rest again. `error` is the server's problem (an `{"error"}` line) or the broken connection."""

    def __init__(
        self, message: str, *, resume_at_line: int, imported: int, failed: int, error: Optional[BaseException]
    ) -> None:
        super().__init__(message)
        self.resume_at_line = resume_at_line
        self.imported = imported
        self.failed = failed
        self.error = error


def error_from_problem(problem: Mapping[str, Any]) -> ApiError:
    """The exception for a problem sent inside a stream (`{"error": problem}` of export or import)."""
    status = problem.get("status")
    status = status if isinstance(status, int) else 500
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    retry_after = problem.get("retry_after")
    headers = {"retry-after": str(int(retry_after))} if isinstance(retry_after, (int, float)) else {}

    def str_or(key: str, default: Any) -> Any:
        value = problem.get(key)
        return value if isinstance(value, str) else default

    return cls(
        status,
        type=str_or("type", "about:blank"),
        title=str_or("title", ""),
        detail=str_or("detail", ""),
        code=str_or("code", ""),
        field=str_or("field", None),
        request_id=str_or("request_id", None),
        headers=headers,
        body=dict(problem),
    )


def _int_header(headers: Mapping[str, str], name: str) -> Optional[int]:
    value = headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for an error answer; a body that is not problem+json still gives its text."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    body: Any = None
    problem: Dict[str, Any] = {}
    raw = response.text
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
    if isinstance(body, dict):
        problem = body

    def str_or(key: str, default: Any) -> Any:
        value = problem.get(key)
        return value if isinstance(value, str) else default

    return cls(
        status,
        type=str_or("type", "about:blank"),
        title=str_or("title", response.reason_phrase),
        detail=str_or("detail", raw[:500] if isinstance(body, str) else ""),
        code=str_or("code", ""),
        field=str_or("field", None),
        request_id=str_or("request_id", response.headers.get("x-request-id")),
        headers=response.headers,
        body=body,
    )
