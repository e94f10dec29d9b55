"""The run workflow's policy handling and the snapshot's pool-entry rule."""

from __future__ import annotations

import pytest
from workflow_scheme import DAY, Scheme, register_swaps

from kidneyshare.care import load_care_policy
from kidneyshare.errors import ConfigError
from kidneyshare.formats import parse_native
from kidneyshare.registry import RecordConflict, UnitOfWork
from kidneyshare.registry.models import Donor, Pair
from kidneyshare.registry.pool import change_status, pair_donors
from kidneyshare.registry.runs import get_run
from kidneyshare.registry.vocabulary import MemberStatus, RunStatus
from kidneyshare.workflows.care import open_episode
from kidneyshare.workflows.matching_run import read_policy, run_matching


def test_a_run_stores_its_policy_file_and_takes_hierarchy_levels(scheme: Scheme) -> None:
    register_swaps(scheme, 2)
    policy = read_policy("uk")
    outcome = run_matching(
        scheme.sessions, scheme.admin, policy, levels=["transplants", "score"], time_limit=60
    )
    assert outcome.status is RunStatus.SUCCEEDED and outcome.transplants == 4
    with scheme.sessions() as session:
        run = get_run(session, outcome.run_id)
        assert run.policy is not None and run.policy["text"] == policy.text
        assert (run.policy["name"], run.policy["version"]) == ("uk", policy.policy.version)
        assert run.config["objective"] == "hierarchy"
        assert run.config["levels"] == ["transplants", "score"]
        assert run.config["max_cycle"] == 3 and run.config["max_chain"] == 2
        assert run.result is not None  # jsonb keeps no key order: compare as a set
        assert set(run.result["values"]) == {"transplants", "score"}
    with pytest.raises(ConfigError, match="unknown criterion"):
        run_matching(scheme.sessions, scheme.admin, policy, levels=["kindness"])
    with pytest.raises(ConfigError, match="no bundled policy"):
        read_policy("no-such-policy")


def test_a_donor_in_an_open_care_episode_is_left_out_and_cannot_return(scheme: Scheme) -> None:
    pairs = register_swaps(scheme, 2)
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        pair = uow.session.get_one(Pair, pairs[0])
        donor = pair_donors(uow.session, pair)[0].id
        open_episode(uow, donor, load_care_policy("care-nhsbt"), on=DAY)
        patient = pair.patient_id
    outcome = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants"))
    with scheme.sessions() as session:
        instance = parse_native(get_run(session, outcome.run_id).snapshot)
        assert f"P{patient}" not in instance.patient_index
        assert f"D{donor}" not in instance.donor_index
        assert session.get_one(Donor, donor).patient_id == patient
    assert outcome.transplants == 2  # the other A-B swap
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        pair = uow.session.get_one(Pair, pairs[0])
        change_status(
            uow, pair, MemberStatus.SUSPENDED, reason="work-up", expected_version=pair.version
        )
    with (
        pytest.raises(RecordConflict, match="cannot re-enter the pool"),
        UnitOfWork(scheme.sessions, scheme.admin) as uow,
    ):
        pair = uow.session.get_one(Pair, pairs[0])
        change_status(uow, pair, MemberStatus.ACTIVE, reason="back", expected_version=pair.version)
