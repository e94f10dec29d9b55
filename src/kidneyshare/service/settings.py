"""The service's settings, read from the environment (``KIDNEYSHARE_*``) by the caller."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """``KIDNEYSHARE_DATABASE_URL``, ``KIDNEYSHARE_SECRET_KEY``,
    ``KIDNEYSHARE_ACCESS_TOKEN_MINUTES``.

    Without a secret key the service makes one on first start and keeps it in the
    database, so that tokens and pseudonyms survive a restart.
    """

    model_config = SettingsConfigDict(env_prefix="KIDNEYSHARE_", extra="ignore")

    database_url: str | None = None
    secret_key: str | None = Field(default=None, min_length=32)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
