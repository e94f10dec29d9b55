"""Passwords (argon2id), short-lived signed access tokens (JWT, HS256) and API tokens.

API tokens are ``ks_`` followed by 256 random bits; only their SHA-256 is stored (a
high-entropy secret needs no slow hash), so a stolen database yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kidneyshare.registry.columns import utc_now

__all__ = [
    "API_TOKEN_PREFIX",
    "AccessToken",
    "TokenError",
    "decode_access_token",
    "hash_password",
    "issue_access_token",
    "new_api_token",
    "token_digest",
    "verify_password",
]

API_TOKEN_PREFIX = "ks_"
_ALGORITHM = "HS256"
_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# A hash checked against when the user does not exist, so that a wrong username costs
# the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class TokenError(Exception):
    """A bearer token is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash (a system account) never matches."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_access_token(user_id: int, key: str, minutes: int) -> AccessToken:
    now = utc_now()
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}
    return AccessToken(jwt.encode(claims, key, algorithm=_ALGORITHM), minutes * 60)


def decode_access_token(token: str, key: str) -> int:
    """The user id a valid, unexpired token was issued to."""
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM], options={"require": ["exp"]})
        return int(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise TokenError(str(exc)) from exc


def new_api_token() -> tuple[str, str]:
    """A new API token and the digest to store."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
