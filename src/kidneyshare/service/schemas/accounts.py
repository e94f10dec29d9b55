"""Centres, users, tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kidneyshare.registry.vocabulary import Role
from kidneyshare.service.schemas.common import Schema

__all__ = [
    "ApiTokenCreate",
    "ApiTokenIssued",
    "CentreCreate",
    "CentrePublic",
    "TokenPublic",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]


class CentreCreate(Schema):
    code: str = Field(
        min_length=1, max_length=16, pattern=r"^[A-Z0-9][A-Z0-9-]*$", examples=["GLA"]
    )
    name: str = Field(min_length=1, max_length=200, examples=["Glasgow Renal Unit"])


class CentrePublic(Schema):
    id: int
    code: str
    name: str
    created_at: datetime


class UserCreate(Schema):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=256,
        description="Omit for a system account that signs in with API tokens only.",
    )
    role: Role
    centre_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="Required for centre roles."
    )


class UserUpdate(Schema):
    role: Role | None = None
    centre_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=12, max_length=256)


class UserPublic(Schema):
    id: int
    username: str
    role: Role
    centre_id: int | None
    active: bool
    version: int


class TokenPublic(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class ApiTokenCreate(Schema):
    name: str = Field(min_length=1, max_length=100, examples=["laboratory system"])


class ApiTokenIssued(Schema):
    id: int
    name: str
    token: str = Field(description="Shown once; only its digest is stored.")
