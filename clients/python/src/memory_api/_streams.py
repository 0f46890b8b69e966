"""Reading and writing the NDJSON streams of export and import, as state the sync and the async
client share: they only move the bytes (httpx streaming) and wait."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set, Union

from .errors import ApiError, ExportInterrupted, ImportInterrupted, MemoryApiError, error_from_problem
from .models import (
    ImportLineError,
    ImportProgress,
    ImportSummary,
    Memory,
    MemoryInput,
    NewMemory,
    memory_json,
)
from .retry import RetryPolicy

#: The default most bytes of one import request: under the server's MAX_BODY_BYTES (10 MiB by default).
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

#: How many times in a row an export that broke off is resumed before ExportInterrupted.
DEFAULT_MAX_RESUMES = 3

ImportItem = Union[Memory, NewMemory, str, Dict[str, Any]]
"""One memory to import: as `export_memories` yields it, or as `add_memories` takes one."""


class StreamBroken(MemoryApiError):
    """A stream that ended before its last line: the connection, an `{"error"}` line, or no end."""

    def __init__(self, message: str, error: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.error = error

    @property
    def retry_after(self) -> Optional[float]:
        return getattr(self.error, "retry_after", None) if isinstance(self.error, ApiError) else None


def _json_line(text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise StreamBroken(f"a line that is not JSON (cut off?): {text[:80]!r}", error) from error
    if not isinstance(value, dict):
        raise StreamBroken(f"a line that is not a JSON object: {text[:80]!r}")
    return value


class ExportReader:
    """The checkpoint protocol of GET …/export, one line at a time.

    Memories come in pages, each followed by `{"next_cursor": c}`; the export is complete exactly
    when a checkpoint's `next_cursor` is null. After a break, the export is requested again with
    the last checkpoint's cursor, which sends the memories after it again: those already yielded
    (their ids are kept since the last checkpoint) are skipped, so none is yielded twice.
    """

    def __init__(self, cursor: Optional[str], max_resumes: int, policy: RetryPolicy) -> None:
        if max_resumes < 0:
            raise ValueError("max_resumes must not be negative")
        self.cursor = cursor
        self.complete = False
        self._max_resumes = max_resumes
        self._policy = policy
        self._failures = 0
        self._since_checkpoint: Set[str] = set()

    def line(self, text: str) -> Optional[Memory]:
        """The memory on this line to yield, or None (a checkpoint, a repeat, a blank line)."""
        if not text.strip():
            return None
        value = _json_line(text)
        if "content" in value:
            memory = Memory.from_json(value)
            if memory.id in self._since_checkpoint:
                return None  # sent again after a resume
            self._since_checkpoint.add(memory.id)
            return memory
        if "next_cursor" in value:
            if value["next_cursor"] is None:
                self.complete = True
            else:
                self.cursor = str(value["next_cursor"])
                self._since_checkpoint.clear()
                self._failures = 0
            return None
        if "error" in value:
            problem = value["error"] if isinstance(value["error"], dict) else {"detail": str(value["error"])}
            error = error_from_problem(problem)
            raise StreamBroken(f"the export failed after it began: {error}", error)
        return None  # a line kind this client does not know

    def ended(self) -> None:
        """The stream ended: complete only after its final checkpoint."""
        if not self.complete:
            raise StreamBroken('the export ended without its final checkpoint ({"next_cursor": null})')

    def resume_delay(self, broken: BaseException) -> float:
        """Seconds to wait before resuming after `broken`, or ExportInterrupted after too many in a row."""
        self._failures += 1
        if self._failures > self._max_resumes:
            where = f"cursor {self.cursor!r}" if self.cursor is not None else "the start"
            raise ExportInterrupted(
                f"the export broke off {self._failures} times in a row; it can go on from {where}: {broken}",
                cursor=self.cursor,
                error=broken,
            ) from broken
        asked = broken.retry_after if isinstance(broken, StreamBroken) else None
        if asked is not None:
            return asked
        policy = self._policy
        return min(policy.max_backoff, policy.backoff * (2 ** (self._failures - 1)))


@dataclass(frozen=True)
class ImportChunk:
    """One request of an import: whole NDJSON lines under the byte limit."""

    #: the number of its first line among everything given (from 1)
    first_line: int
    lines: int
    body: bytes
    #: every line has an id: sending it again upserts the same memories
    every_id: bool


def import_line(item: ImportItem) -> bytes:
    """One memory as an NDJSON line (as the export writes it, or as POST …/memories takes one)."""
    if isinstance(item, Memory):
        value = item.to_json()
    elif isinstance(item, (NewMemory, str)) or isinstance(item, dict):
        value = memory_json(item)
    else:
        value = memory_json(item)  # another Mapping
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class ImportChunker:
    """Cuts the lines of an import into requests of at most `max_body_bytes`, at line boundaries."""

    def __init__(self, max_body_bytes: int) -> None:
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self._limit = max_body_bytes
        self._lines: List[bytes] = []
        self._size = 0
        self._every_id = True
        self._next_line = 1

    def add(self, item: MemoryInput) -> Optional[ImportChunk]:
        """Takes one memory; answers the chunk to send first when it would not fit in the current one."""
        line = import_line(item)  # type: ignore[arg-type]
        if len(line) > self._limit:
            raise ValueError(
                f"memory {self._next_line + len(self._lines)} is {len(line)} bytes as a line, over max_body_bytes ({self._limit})"
            )
        full = self.finish() if self._size + len(line) > self._limit else None
        self._lines.append(line)
        self._size += len(line)
        self._every_id = self._every_id and _has_id(item)
        return full

    def finish(self) -> Optional[ImportChunk]:
        """The chunk being filled, if it holds any line."""
        if not self._lines:
            return None
        chunk = ImportChunk(self._next_line, len(self._lines), b"".join(self._lines), self._every_id)
        self._next_line += len(self._lines)
        self._lines, self._size, self._every_id = [], 0, True
        return chunk


def _has_id(item: Any) -> bool:
    if isinstance(item, (Memory, NewMemory)):
        return item.id is not None
    if isinstance(item, str):
        return False
    return item.get("id") is not None


class ImportTally:
    """Reads the progress lines of each import request and adds them up, numbering lines across
    all the requests."""

    def __init__(self, on_progress: Optional[Callable[[ImportProgress], None]]) -> None:
        self._on_progress = on_progress
        self.imported = 0
        self.failed = 0
        self.lines = 0
        self.skipped = 0
        self.requests = 0
        self.errors: List[ImportLineError] = []
        self._chunk: Optional[ImportChunk] = None
        self._done_up_to = 0
        self._finished = False
        self._progress = (0, 0)

    def begin(self, chunk: ImportChunk) -> None:
        self._chunk = chunk
        self._done_up_to = 0
        self._finished = False
        self._progress = (0, 0)

    def _at(self, line: int) -> int:
        assert self._chunk is not None
        return self._chunk.first_line - 1 + line

    def line(self, text: str) -> None:
        if not text.strip():
            return
        try:
            value = _json_line(text)
        except StreamBroken as broken:
            raise self.interrupted(broken) from broken
        if "error" in value:
            problem = value["error"] if isinstance(value["error"], dict) else {"detail": str(value["error"])}
            error = error_from_problem(problem)
            resume = int(value.get("resume_at_line", self._done_up_to + 1))
            imported, failed = int(value.get("imported", 0)), int(value.get("failed", 0))
            raise ImportInterrupted(
                f"the import stopped at line {self._at(resume)}: {error}",
                resume_at_line=self._at(resume),
                imported=self.imported + imported,
                failed=self.failed + failed,
                error=error,
            ) from error
        if value.get("done") is True:
            self._finished = True
            self.requests += 1
            self.imported += int(value["imported"])
            self.failed += int(value["failed"])
            self.lines += int(value["lines"])
            self.skipped += int(value["skipped"])
            for e in value.get("errors", []):
                at = self._at(int(e["line"]))
                detail = str(e.get("detail", ""))
                if detail.startswith(f"line {e['line']}:"):
                    detail = f"line {at}:" + detail[len(f"line {e['line']}:") :]
                self.errors.append(ImportLineError(line=at, detail=detail, field=e.get("field")))
            return
        if "line" in value:
            self._done_up_to = int(value["line"])
            self._progress = (int(value.get("imported", 0)), int(value.get("failed", 0)))
            if self._on_progress:
                self._on_progress(ImportProgress(self.imported + self._progress[0], self.failed + self._progress[1]))

    def interrupted(self, error: BaseException) -> ImportInterrupted:
        """The answer broke off: the lines up to the last progress line are done."""
        resume = self._at(self._done_up_to + 1)
        return ImportInterrupted(
            f"the import's answer broke off before its summary; lines before {resume} are done: {error}",
            resume_at_line=resume,
            imported=self.imported + self._progress[0],
            failed=self.failed + self._progress[1],
            error=error,
        )

    def ended(self) -> None:
        if not self._finished:
            raise self.interrupted(StreamBroken('the answer ended without its summary ({"done": true})'))

    def refused(self, error: ApiError) -> BaseException:
        """A request refused before it began: as is when nothing was sent yet, else where to resume."""
        assert self._chunk is not None
        if self._chunk.first_line == 1:
            return error
        return ImportInterrupted(
            f"the import stopped at line {self._chunk.first_line}: {error}",
            resume_at_line=self._chunk.first_line,
            imported=self.imported,
            failed=self.failed,
            error=error,
        )

    def summary(self) -> ImportSummary:
        return ImportSummary(
            imported=self.imported,
            failed=self.failed,
            lines=self.lines,
            skipped=self.skipped,
            errors=list(self.errors),
            requests=self.requests,
        )
