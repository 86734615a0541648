"""One page of a list computed on the server (LIMIT / OFFSET), for any area's long lists; the
template `core/_pages.html` draws its links."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PAGE_SIZE", "Page"]

PAGE_SIZE = 50


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page
