"""The rule the registry asks before a donor enters (or re-enters) a matching pool.

A donor who has donated a kidney can never be put in a pool again: they have one kidney
left. The rule reads the donor's whole history (every care episode, plus any donation the
registry recorded outside an episode, such as an imported transplant) rather than a flag,
so that no path through the pathway can lose it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from kidneyshare.care.errors import EventLogError
from kidneyshare.care.pathway import CareEpisode, Stage
from kidneyshare.model.people import DonorId, check_id

__all__ = ["DonorHistory", "PoolEligibility", "may_enter_pool"]


@dataclass(frozen=True, slots=True)
class DonorHistory:
    """Everything recorded about one donor that bears on pool eligibility.

    ``donations`` are donation dates known from outside the care episodes (the registry's
    transplant records); an episode that reached surgery counts as a donation as well.
    """

    donor_id: DonorId
    episodes: tuple[CareEpisode, ...] = ()
    donations: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        check_id(self.donor_id, "donor history donor id")
        for episode in self.episodes:
            if episode.donor_id != self.donor_id:
                raise EventLogError(
                    f"donor history of {self.donor_id}: episode {episode.episode_id} belongs "
                    f"to donor {episode.donor_id}"
                )


class PoolEligibility(NamedTuple):
    """Whether the donor may enter a pool, and the sentence that says why."""

    allowed: bool
    reason: str


def may_enter_pool(history: DonorHistory) -> PoolEligibility:
    """Whether the donor may be put in a matching pool, with the reason.

    Refused when the donor has donated (ever, in any episode or registry record), is
    recorded deceased, or is in an open care episode (already committed to an exchange).
    A donor whose earlier episodes all ended before surgery (withdrawn, transferred) may
    enter again.

    Examples
    --------
    >>> may_enter_pool(DonorHistory(DonorId("d1")))
    PoolEligibility(allowed=True, reason='donor d1 has no donation and no open care episode')
    """
    donor = history.donor_id
    donated = [(e.donated_on, f"episode {e.episode_id}") for e in history.episodes if e.donated_on]
    donated += [(day, "the registry's transplant record") for day in history.donations]
    if donated:
        day, where = min(donated)
        return PoolEligibility(
            False,
            f"donor {donor} donated a kidney on {day} ({where}); a donor who has donated "
            "can never enter a pool again",
        )
    for episode in history.episodes:
        if episode.stage is Stage.DECEASED:
            return PoolEligibility(
                False, f"donor {donor} is recorded deceased on {episode.stage_since}"
            )
    for episode in history.episodes:
        if episode.is_active:
            return PoolEligibility(
                False,
                f"donor {donor} is in care episode {episode.episode_id} at stage "
                f"{episode.stage.label}; end it before the donor re-enters a pool",
            )
    ended = [e for e in history.episodes if e.stage.is_ended]
    if ended:
        last = max(ended, key=lambda e: e.stage_since)
        return PoolEligibility(
            True,
            f"donor {donor} has not donated; episode {last.episode_id} ended "
            f"({last.stage.label}) on {last.stage_since}, before surgery",
        )
    return PoolEligibility(True, f"donor {donor} has no donation and no open care episode")
