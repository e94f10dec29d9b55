"""Small care records built by hand for the alert and caseload tests."""

from __future__ import annotations

from datetime import date, timedelta

from kidneyshare.care.measurements import DonorProfile, Measurement, Observation, Sex
from kidneyshare.care.pathway import (
    CareEpisode,
    CoordinatorId,
    EpisodeEvent,
    EpisodeId,
    EpisodeOpened,
    Stage,
    StageChanged,
    replay,
)
from kidneyshare.care.record import CareRecord
from kidneyshare.model import DonorId

__all__ = ["donated_episode", "measure", "profile", "record", "work_up_episode"]


def profile(donor: str, born: date = date(1975, 6, 1), sex: Sex = Sex.MALE) -> DonorProfile:
    return DonorProfile(DonorId(donor), born, sex)


def work_up_episode(
    donor: str, opened_on: date, coordinator: str = "cc1", planned_for: date | None = None
) -> CareEpisode:
    events: list[EpisodeEvent] = [
        EpisodeOpened(
            EpisodeId(f"e-{donor}"), DonorId(donor), CoordinatorId(coordinator), opened_on, "u1"
        )
    ]
    if planned_for is not None:
        events.append(
            StageChanged(
                Stage.ASSESSMENT, Stage.SURGERY_SCHEDULED, opened_on, "u1", "booked", planned_for
            )
        )
    return replay(events)


def donated_episode(
    donor: str, donated_on: date, coordinator: str = "cc1", then: tuple[Stage, ...] = ()
) -> CareEpisode:
    """Opened 60 days before surgery; discharged 3 days after; in follow-up from day 14;
    then each of ``then`` a further 30 days apart."""
    S = Stage
    path = [
        (S.ASSESSMENT, S.SURGERY_SCHEDULED, donated_on - timedelta(days=30)),
        (S.SURGERY_SCHEDULED, S.SURGERY, donated_on),
        (S.SURGERY, S.INPATIENT_RECOVERY, donated_on),
        (S.INPATIENT_RECOVERY, S.DISCHARGED, donated_on + timedelta(days=3)),
        (S.DISCHARGED, S.FOLLOW_UP, donated_on + timedelta(days=14)),
    ]
    day = donated_on + timedelta(days=14)
    for stage in then:
        day += timedelta(days=30)
        path.append((path[-1][1], stage, day))
    events: list[EpisodeEvent] = [
        EpisodeOpened(
            EpisodeId(f"e-{donor}"),
            DonorId(donor),
            CoordinatorId(coordinator),
            donated_on - timedelta(days=60),
            "u1",
        )
    ]
    for a, b, on in path:
        planned = donated_on if b is S.SURGERY_SCHEDULED else None
        events.append(StageChanged(a, b, on, "u1", f"to {b.value}", planned))
    return replay(events)


def measure(donor: str, day: date, observation: Observation) -> Measurement:
    return Measurement(DonorId(donor), day, observation, "u1")


def record(
    episode: CareEpisode,
    visits: tuple[date, ...] = (),
    measurements: tuple[Measurement, ...] = (),
) -> CareRecord:
    return CareRecord(episode, profile(episode.donor_id), visits, measurements)
