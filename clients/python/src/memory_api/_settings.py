"""What both clients are configured with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Union

import httpx

from .retry import OnRetry, RetryPolicy

__version__ = "1.0.0"

DEFAULT_BASE_URL = "http://localhost:8000"
DEFAULT_TIMEOUT = 30.0

Timeout = Union[float, httpx.Timeout, None]


@dataclass(frozen=True)
class Settings:
    base_url: str
    token: Optional[str]
    timeout: Union[float, httpx.Timeout, None]
    retry: RetryPolicy
    on_retry: Optional[OnRetry]
    headers: Dict[str, str]

    @classmethod
    def resolve(
        cls,
        base_url: Optional[str],
        token: Optional[str],
        timeout: Timeout,
        retry: Optional[RetryPolicy],
        on_retry: Optional[OnRetry],
        headers: Optional[Mapping[str, str]],
    ) -> "Settings":
        url = base_url or os.environ.get("MEMORY_API_URL") or DEFAULT_BASE_URL
        return cls(
            base_url=url.rstrip("/"),
            token=token if token is not None else os.environ.get("MEMORY_API_TOKEN"),
            timeout=timeout,
            retry=retry if retry is not None else RetryPolicy(),
            on_retry=on_retry,
            headers={"user-agent": f"memory-api-python/{__version__}", "accept": "application/json", **(headers or {})},
        )

    def request_headers(self, authenticated: bool) -> Dict[str, str]:
        if authenticated and self.token:
            return {"authorization": f"Bearer {self.token}"}
        return {}
