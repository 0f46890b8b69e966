"""Following a paginated list: every item of every page, each next page asked with the previous one's cursor."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")


def follow(fetch: Callable[[Optional[str]], Any], items: Callable[[Any], Iterable[T]]) -> Iterator[T]:
    cursor: Optional[str] = None
    while True:
        page = fetch(cursor)
        yield from items(page)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def follow_async(fetch: Callable[[Optional[str]], Awaitable[Any]], items: Callable[[Any], Iterable[T]]) -> AsyncIterator[T]:
    cursor: Optional[str] = None
    while True:
        page = await fetch(cursor)
        for item in items(page):
            yield item
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
