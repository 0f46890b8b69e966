"""Fixtures. The tests marked `live` talk to a running Memory API given by the environment
(test/clients/python-client.test.ts starts one and mints the tokens):

    MEMORY_API_URL                  the server
    MEMORY_API_TOKEN                a pro token (rerank allowed)
    MEMORY_API_TOKEN_OTHER          a pro token of another user
    MEMORY_API_TOKEN_FREE           a free token
    MEMORY_API_TOKEN_FREE_LIMITED   a free token of a user whose budget the 429 tests spend
    MEMORY_API_TOKEN_EXPIRED        an expired token
    MEMORY_API_RATE_LIMIT_FREE      the free tier's requests a minute on that server

Without MEMORY_API_URL they are skipped, and only the offline tests run.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest

from memory_api import Collection, MemoryClient


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set (run through test/clients/python-client.test.ts)")
    return value


@pytest.fixture(scope="session")
def base_url() -> str:
    return _env("MEMORY_API_URL")


@pytest.fixture(scope="session")
def token() -> str:
    return _env("MEMORY_API_TOKEN")


@pytest.fixture(scope="session")
def tokens() -> "dict[str, str]":
    names = {
        "pro": "MEMORY_API_TOKEN",
        "other": "MEMORY_API_TOKEN_OTHER",
        "free": "MEMORY_API_TOKEN_FREE",
        "free_limited": "MEMORY_API_TOKEN_FREE_LIMITED",
        "expired": "MEMORY_API_TOKEN_EXPIRED",
    }
    return {key: _env(name) for key, name in names.items()}


@pytest.fixture()
def client(base_url: str, token: str) -> Iterator[MemoryClient]:
    with MemoryClient(base_url, token, timeout=60) as c:
        yield c


@pytest.fixture()
def collection(client: MemoryClient) -> Iterator[Collection]:
    created = client.create_collection(f"py-{uuid.uuid4()}", "made by the Python client's tests")
    yield created
    try:
        client.delete_collection(created.id)
    except Exception:  # the test may have deleted it
        pass
