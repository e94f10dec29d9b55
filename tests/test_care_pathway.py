"""The care pathway's state machine, its event log and the rule that donors never re-enter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kidneyshare.care.eligibility import DonorHistory, may_enter_pool
from kidneyshare.care.errors import EventLogError, TransitionError
from kidneyshare.care.pathway import (
    TRANSITIONS,
    CareEpisode,
    CoordinatorAssigned,
    CoordinatorId,
    EpisodeEvent,
    EpisodeId,
    EpisodeOpened,
    Stage,
    StageChanged,
    apply,
    change_stage,
    replay,
)
from kidneyshare.errors import KidneyshareError, ModelError
from kidneyshare.model import DonorId

DAY = date(2026, 3, 2)
S = Stage

ALLOWED = [
    (S.ASSESSMENT, S.SURGERY_SCHEDULED),
    (S.ASSESSMENT, S.WITHDRAWN),
    (S.ASSESSMENT, S.DECEASED),
    (S.ASSESSMENT, S.TRANSFERRED),
    (S.SURGERY_SCHEDULED, S.SURGERY),
    (S.SURGERY_SCHEDULED, S.SURGERY_SCHEDULED),
    (S.SURGERY_SCHEDULED, S.ASSESSMENT),
    (S.SURGERY_SCHEDULED, S.WITHDRAWN),
    (S.SURGERY_SCHEDULED, S.DECEASED),
    (S.SURGERY_SCHEDULED, S.TRANSFERRED),
    (S.SURGERY, S.INPATIENT_RECOVERY),
    (S.SURGERY, S.DECEASED),
    (S.INPATIENT_RECOVERY, S.DISCHARGED),
    (S.INPATIENT_RECOVERY, S.DECEASED),
    (S.DISCHARGED, S.FOLLOW_UP),
    (S.DISCHARGED, S.LOST_TO_FOLLOW_UP),
    (S.DISCHARGED, S.TRANSFERRED),
    (S.DISCHARGED, S.DECEASED),
    (S.FOLLOW_UP, S.LOST_TO_FOLLOW_UP),
    (S.FOLLOW_UP, S.TRANSFERRED),
    (S.FOLLOW_UP, S.DECEASED),
    (S.LOST_TO_FOLLOW_UP, S.FOLLOW_UP),
    (S.LOST_TO_FOLLOW_UP, S.TRANSFERRED),
    (S.LOST_TO_FOLLOW_UP, S.DECEASED),
]

FORBIDDEN = [
    (S.ASSESSMENT, S.SURGERY),  # surgery must be scheduled first
    (S.ASSESSMENT, S.FOLLOW_UP),
    (S.ASSESSMENT, S.ASSESSMENT),
    (S.SURGERY, S.WITHDRAWN),  # nobody withdraws from having donated
    (S.SURGERY, S.DISCHARGED),
    (S.INPATIENT_RECOVERY, S.WITHDRAWN),
    (S.INPATIENT_RECOVERY, S.FOLLOW_UP),
    (S.DISCHARGED, S.WITHDRAWN),
    (S.FOLLOW_UP, S.WITHDRAWN),
    (S.FOLLOW_UP, S.SURGERY_SCHEDULED),
    (S.FOLLOW_UP, S.ASSESSMENT),
    (S.LOST_TO_FOLLOW_UP, S.ASSESSMENT),
    (S.WITHDRAWN, S.ASSESSMENT),
    (S.DECEASED, S.FOLLOW_UP),
    (S.TRANSFERRED, S.FOLLOW_UP),
]


def opened(on: date = DAY, donor: str = "d1", episode: str = "e1") -> EpisodeOpened:
    return EpisodeOpened(EpisodeId(episode), DonorId(donor), CoordinatorId("cc1"), on, "u1")


def change(a: Stage, b: Stage, on: date = DAY) -> StageChanged:
    planned = on + timedelta(days=14) if b is S.SURGERY_SCHEDULED else None
    return StageChanged(a, b, on, "u1", f"{a.value} to {b.value}", planned)


def test_the_table_lists_exactly_the_allowed_transitions() -> None:
    table = {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts}
    assert table == set(ALLOWED)
    assert set(TRANSITIONS) == set(Stage)


@pytest.mark.parametrize(("a", "b"), ALLOWED, ids=lambda s: s.value)
def test_every_allowed_transition_is_built(a: Stage, b: Stage) -> None:
    event = change(a, b)
    assert (event.from_stage, event.to_stage) == (a, b)


@pytest.mark.parametrize(("a", "b"), FORBIDDEN, ids=lambda s: s.value)
def test_forbidden_transitions_name_from_and_to(a: Stage, b: Stage) -> None:
    with pytest.raises(
        TransitionError, match=f"from {a.value} to {b.value} is not allowed"
    ) as info:
        change(a, b)
    assert (info.value.from_stage, info.value.to_stage) == (a, b)
    assert isinstance(info.value, KidneyshareError) and isinstance(info.value, ValueError)


def test_ended_and_terminal_stages() -> None:
    ended = {s for s in Stage if s.is_ended}
    assert ended == {S.WITHDRAWN, S.DECEASED, S.LOST_TO_FOLLOW_UP, S.TRANSFERRED}
    assert {s for s in Stage if s.is_terminal} == ended - {S.LOST_TO_FOLLOW_UP}


def full_donation() -> list[EpisodeEvent]:
    return [
        opened(),
        change(S.ASSESSMENT, S.SURGERY_SCHEDULED, DAY + timedelta(days=10)),
        change(S.SURGERY_SCHEDULED, S.SURGERY, DAY + timedelta(days=24)),
        change(S.SURGERY, S.INPATIENT_RECOVERY, DAY + timedelta(days=24)),
        CoordinatorAssigned(CoordinatorId("cc2"), DAY + timedelta(days=25), "u1", "cover"),
        change(S.INPATIENT_RECOVERY, S.DISCHARGED, DAY + timedelta(days=27)),
        change(S.DISCHARGED, S.FOLLOW_UP, DAY + timedelta(days=38)),
    ]


def test_a_donation_replays_to_follow_up() -> None:
    episode = replay(full_donation())
    assert episode.stage is S.FOLLOW_UP
    assert episode.donated_on == DAY + timedelta(days=24)
    assert episode.coordinator == "cc2"
    assert episode.stage_since == DAY + timedelta(days=38)
    assert episode.opened_on == DAY and episode.has_donated and episode.is_active
    assert episode.surgery_planned_for is None
    assert len(episode.events) == 7


def test_scheduling_records_the_planned_date() -> None:
    episode = replay(full_donation()[:2])
    assert episode.surgery_planned_for == DAY + timedelta(days=24)
    assert episode.donated_on is None


def test_apply_never_mutates_its_input() -> None:
    start = replay([opened()])
    before = (start.stage, start.events)
    after = apply(start, change(S.ASSESSMENT, S.WITHDRAWN))
    assert (start.stage, start.events) == before
    assert after.stage is S.WITHDRAWN and after is not start


def test_change_stage_builds_a_checked_event_without_changing_the_episode() -> None:
    episode = replay([opened()])
    event = change_stage(
        episode,
        S.SURGERY_SCHEDULED,
        on=DAY,
        recorded_by="u2",
        reason="theatre booked",
        planned_for=DAY + timedelta(days=30),
    )
    assert event.from_stage is S.ASSESSMENT and episode.stage is S.ASSESSMENT
    with pytest.raises(TransitionError, match="from assessment to surgery is not allowed"):
        change_stage(episode, S.SURGERY, on=DAY, recorded_by="u2", reason="x")
    with pytest.raises(EventLogError, match="before the previous event"):
        change_stage(episode, S.WITHDRAWN, on=DAY - timedelta(days=1), recorded_by="u", reason="x")


@pytest.mark.parametrize(
    ("events", "error", "message"),
    [
        ([], EventLogError, "empty"),
        ([change(S.ASSESSMENT, S.WITHDRAWN)], EventLogError, "must open it"),
        ([opened(), opened()], EventLogError, "already open"),
        (
            [opened(), change(S.ASSESSMENT, S.WITHDRAWN, DAY - timedelta(days=1))],
            EventLogError,
            "dated 2026-03-01 is before the previous event",
        ),
        (
            [opened(), change(S.SURGERY, S.INPATIENT_RECOVERY)],
            TransitionError,
            "recorded, but the episode is at assessment",
        ),
        (
            [opened(), CoordinatorAssigned(CoordinatorId("cc1"), DAY, "u1", "again")],
            EventLogError,
            "cc1 is already its coordinator",
        ),
        (
            [
                opened(),
                change(S.ASSESSMENT, S.WITHDRAWN),
                CoordinatorAssigned(CoordinatorId("cc2"), DAY, "u1", "late"),
            ],
            EventLogError,
            "ended",
        ),
    ],
)
def test_bad_logs_are_refused(
    events: list[EpisodeEvent], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        replay(events)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StageChanged(S.ASSESSMENT, S.WITHDRAWN, DAY, "u1", "  "), "reason"),
        (lambda: StageChanged(S.ASSESSMENT, S.SURGERY_SCHEDULED, DAY, "u1", "x"), "planned_for"),
        (
            lambda: StageChanged(
                S.ASSESSMENT, S.SURGERY_SCHEDULED, DAY, "u1", "x", DAY - timedelta(days=1)
            ),
            "before the day it was scheduled",
        ),
        (lambda: StageChanged(S.ASSESSMENT, S.WITHDRAWN, DAY, "u1", "x", DAY), "only a change"),
        (lambda: StageChanged(S.ASSESSMENT, S.WITHDRAWN, "2026-01-01", "u1", "x"), "date"),
        (lambda: opened(on=datetime(2026, 1, 1, 9, 30)), "opened on: expected a calendar date"),
    ],
)
def test_events_are_validated_when_built(build: Callable[[], object], message: str) -> None:
    with pytest.raises(EventLogError, match=message):
        build()


def test_ids_are_checked() -> None:
    with pytest.raises(ModelError, match="episode id"):
        opened(episode=" e1")


# --- property: any valid event sequence replays to the same state --------------------


MAIN_PATH = {
    S.ASSESSMENT: S.SURGERY_SCHEDULED,
    S.SURGERY_SCHEDULED: S.SURGERY,
    S.SURGERY: S.INPATIENT_RECOVERY,
    S.INPATIENT_RECOVERY: S.DISCHARGED,
    S.DISCHARGED: S.FOLLOW_UP,
}


@st.composite
def event_logs(draw: st.DrawFn) -> list[EpisodeEvent]:
    events: list[EpisodeEvent] = [opened(on=DAY + timedelta(days=draw(st.integers(0, 50))))]
    stage, on = S.ASSESSMENT, events[0].on
    coordinator = "cc1"
    for _ in range(draw(st.integers(0, 12))):
        on += timedelta(days=draw(st.integers(0, 400)))
        nexts = sorted(TRANSITIONS[stage], key=lambda s: s.value)
        if not stage.is_terminal and draw(st.booleans()) and draw(st.booleans()):
            coordinator = "cc2" if coordinator == "cc1" else "cc1"
            events.append(CoordinatorAssigned(CoordinatorId(coordinator), on, "u", "rota"))
            continue
        if not nexts:
            break
        # Lean towards the main path so that most logs reach surgery and beyond.
        main = MAIN_PATH.get(stage)
        target = main if main and draw(st.booleans()) else draw(st.sampled_from(nexts))
        events.append(change(stage, target, on))
        stage = target
    return events


@settings(max_examples=300, deadline=None)
@given(event_logs())
def test_any_valid_log_replays_to_the_state_of_its_step_by_step_fold(
    events: list[EpisodeEvent],
) -> None:
    episode: CareEpisode | None = None
    for event in events:
        episode = apply(episode, event)
    assert episode is not None
    assert replay(events) == episode
    assert replay(episode.events) == episode  # the state carries its own log
    changes = [e for e in events if isinstance(e, StageChanged)]
    assert episode.stage is (changes[-1].to_stage if changes else S.ASSESSMENT)
    surgery = [e.on for e in changes if e.to_stage is S.SURGERY]
    assert episode.donated_on == (surgery[0] if surgery else None)


@settings(max_examples=300, deadline=None)
@given(event_logs(), st.lists(st.dates(date(2020, 1, 1), date(2030, 1, 1)), max_size=2))
def test_a_donor_who_donated_never_becomes_eligible_for_a_pool(
    events: list[EpisodeEvent], registry_donations: list[date]
) -> None:
    donor = DonorId("d1")
    for end in range(1, len(events) + 1):
        episode = replay(events[:end])
        earlier = replay([opened(episode="e0"), change(S.ASSESSMENT, S.WITHDRAWN)])
        history = DonorHistory(donor, (earlier, episode), tuple(registry_donations))
        allowed, reason = may_enter_pool(history)
        if episode.has_donated or registry_donations:
            assert not allowed
            assert "can never enter a pool again" in reason
        if allowed:
            assert episode.stage.is_ended and not episode.has_donated


def test_pool_eligibility_reasons() -> None:
    donor = DonorId("d1")
    assert may_enter_pool(DonorHistory(donor)) == (
        True,
        "donor d1 has no donation and no open care episode",
    )
    open_episode = replay([opened()])
    allowed, reason = may_enter_pool(DonorHistory(donor, (open_episode,)))
    assert not allowed and "care episode e1 at stage assessment" in reason
    withdrawn = apply(open_episode, change(S.ASSESSMENT, S.WITHDRAWN, DAY + timedelta(days=3)))
    allowed, reason = may_enter_pool(DonorHistory(donor, (withdrawn,)))
    assert allowed and "ended (withdrawn) on 2026-03-05, before surgery" in reason
    died = apply(open_episode, change(S.ASSESSMENT, S.DECEASED))
    assert may_enter_pool(DonorHistory(donor, (died,))) == (
        False,
        "donor d1 is recorded deceased on 2026-03-02",
    )
    donated = replay(full_donation())
    result = may_enter_pool(DonorHistory(donor, (withdrawn, donated)))
    assert result.allowed is False
    assert result.reason.startswith("donor d1 donated a kidney on 2026-03-26 (episode e1)")
    imported = may_enter_pool(DonorHistory(donor, donations=(date(2019, 5, 1),)))
    assert "on 2019-05-01 (the registry's transplant record)" in imported.reason


def test_a_history_holds_one_donor_only() -> None:
    with pytest.raises(EventLogError, match="episode e1 belongs to donor d2"):
        DonorHistory(DonorId("d1"), (replay([opened(donor="d2")]),))
