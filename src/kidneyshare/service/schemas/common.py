"""Shapes every resource shares: pages of results."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MAX_PAGE", "Page", "Schema"]

MAX_PAGE = 200

Item = TypeVar("Item")


class Schema(BaseModel):
    """Base of every body: unknown fields are errors (a misspelt field is never ignored)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class Page(Schema, Generic[Item]):
    """One page of a list: ``items`` from ``offset``, ``total`` matching in all."""

    items: list[Item]
    total: int = Field(ge=0)
    limit: int = Field(ge=1, le=MAX_PAGE)
    offset: int = Field(ge=0)
