"""The REST service: FastAPI app, auth (argon2, signed tokens, API tokens), roles per
centre, pseudonymisation. Handlers are thin: they call the registry and render."""

from kidneyshare.registry.access import PERMISSIONS, Permission, Principal
from kidneyshare.service.app import create_app
from kidneyshare.service.settings import ServiceSettings

__all__ = ["PERMISSIONS", "Permission", "Principal", "ServiceSettings", "create_app"]
