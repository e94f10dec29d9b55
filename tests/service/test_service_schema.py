"""Property tests from the OpenAPI spec (schemathesis + Hypothesis) against a live server.

Every operation gets generated requests, valid and invalid, signed in as the scheme
administrator (who may call everything). The server must never answer 5xx, and every
documented response must match its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from live_server import LiveServer, live_server
from schemathesis.checks import not_a_server_error, response_schema_conformance
from service_scheme import PASSWORD, seed_users

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    seed_users(database_url)
    with live_server(database_url, tmp_path) as running:
        yield running


def test_the_api_never_fails_and_keeps_its_schema(server: LiveServer) -> None:
    token = server.sign_in("admin", PASSWORD)
    api = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for found in api.get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance],
                timeout=60,
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation at the end
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 28
    assert failures == [], "\n\n".join(failures)
