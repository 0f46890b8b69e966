"""The Python examples of docs/python-client.md and of the package README, run as written
against the server (they read MEMORY_API_URL and MEMORY_API_TOKEN like a user's script would)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import List, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
DOCS = [PACKAGE.parents[1] / "docs" / "python-client.md", PACKAGE / "README.md"]


def examples() -> List[Tuple[str, str]]:
    found = []
    for doc in DOCS:
        if not doc.exists():
            continue
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            found.append((f"{doc.name}#{i + 1}", block))
    return found


@pytest.mark.parametrize(("where", "code"), examples(), ids=[w for w, _ in examples()])
def test_example_runs(where: str, code: str, base_url: str, token: str) -> None:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, where, "exec"), {"__name__": "__main__", "token": token})


def test_every_doc_has_examples() -> None:
    assert {w.split("#")[0] for w, _ in examples()} == {"python-client.md", "README.md"}
