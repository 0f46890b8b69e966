"""For the receiver of a webhook: checking the `Memory-Signature` header of a delivery."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Optional, Union

SIGNATURE_HEADER = "Memory-Signature"
"""The header that signs each delivery: `t=<unix seconds>,v1=<hex>`."""

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_SECONDS = re.compile(r"[0-9]+")


def webhook_signature(secret: str, body: Union[bytes, str], timestamp: int) -> str:
    """The `Memory-Signature` value the server sends for `body` at `timestamp` (unix seconds):
    `t=<timestamp>,v1=<hex HMAC-SHA256 with the secret over "<timestamp>.<body>">`."""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook_signature(
    secret: str,
    body: Union[bytes, str],
    header: Optional[str],
    tolerance_seconds: float = 300,
    now: Optional[float] = None,
) -> bool:
    """True when `header` (the delivery's `Memory-Signature`) signs `body` with `secret`.

    `body` is the request body exactly as received (bytes; a str is taken as its UTF-8): parse
    the JSON only after checking it. The header's `t` must be within `tolerance_seconds` of
    `now` (unix seconds, default the current time), which refuses a replayed old delivery; any
    one of its `v1` entries may match (compared in constant time). A missing or malformed header
    is False, never an exception.
    """
    if not isinstance(header, str):
        return False
    times, signatures = [], []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            times.append(value)
        elif key == "v1" and _HEX_SHA256.fullmatch(value):
            signatures.append(value)
    # the first `t` is the one signed; one that is not whole seconds makes the header malformed
    if not times or not _SECONDS.fullmatch(times[0]) or not signatures:
        return False
    timestamp = int(times[0])
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = webhook_signature(secret, body, timestamp).split("v1=", 1)[1]
    # every entry is compared, so the time taken does not tell which one (if any) matched
    matched = False
    for signature in signatures:
        matched = hmac.compare_digest(signature, expected) or matched
    return matched
