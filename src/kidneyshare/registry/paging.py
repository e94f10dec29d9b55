"""One page of a query's rows, and how many rows match in all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

__all__ = ["page"]

Row = TypeVar("Row")


def page(
    session: Session, query: Select[Row], order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[Row], int]:
    """Rows ``offset`` .. ``offset + limit`` of ``query`` in ``order_by`` order, and the
    number of rows ``query`` matches."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows), total
