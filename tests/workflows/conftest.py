"""Workflow tests: the registry on SQLite and PostgreSQL, with a scheme of two centres,
an administrator and a care coordinator per centre (fixtures in ``workflow_scheme``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_backends import database_url, postgres_database
from workflow_scheme import scheme

__all__ = ["database_url", "postgres_database", "scheme"]
