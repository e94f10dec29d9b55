"""Everything recorded about one donor's care, as the alerts and the caseload read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kidneyshare.care.errors import EventLogError, MeasurementError
from kidneyshare.care.measurements import DonorProfile, Measurement
from kidneyshare.care.pathway import CareEpisode, replay

__all__ = ["CareRecord"]


@dataclass(frozen=True, slots=True)
class CareRecord:
    """One donor's episode, profile, follow-up visits held and measurements.

    ``visits`` are the days the donor was seen for follow-up. The record can be viewed
    as it stood on an earlier day (:meth:`as_of`), so that every alert and caseload can
    be recomputed for any past date from the same append-only data.
    """

    episode: CareEpisode
    profile: DonorProfile
    visits: tuple[date, ...] = ()
    measurements: tuple[Measurement, ...] = ()

    def __post_init__(self) -> None:
        donor = self.episode.donor_id
        if self.profile.donor_id != donor:
            raise EventLogError(
                f"care record of episode {self.episode.episode_id}: profile is for donor "
                f"{self.profile.donor_id}, the episode for {donor}"
            )
        for m in self.measurements:
            if m.donor_id != donor:
                raise MeasurementError(
                    f"expected donor {donor}'s measurements only",
                    field=f"care record of episode {self.episode.episode_id} measurement donor",
                    value=m.donor_id,
                )

    def as_of(self, day: date) -> CareRecord | None:
        """The record as it stood at the end of ``day`` (``None`` before the episode opened)."""
        events = [e for e in self.episode.events if e.on <= day]
        if not events:
            return None
        return CareRecord(
            replay(events),
            self.profile,
            tuple(v for v in self.visits if v <= day),
            tuple(m for m in self.measurements if m.taken_on <= day),
        )
