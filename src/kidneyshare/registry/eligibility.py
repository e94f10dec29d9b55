"""Whether a registered donor may enter a matching pool, by the care domain's rule.

A donor who has donated can never be put in a pool again
(:func:`kidneyshare.care.may_enter_pool`). The registry asks that rule with each donor's
whole history: the transplants recorded from offers and every care episode. It is asked
at registration (a donor registered again under a new record is the same person when a
centre registers the same code again, or any centre the same identifiable reference),
at import, when a member is made active again, and when the pool is snapshotted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kidneyshare.care import DonorHistory, PoolEligibility, may_enter_pool
from kidneyshare.model import DonorId
from kidneyshare.registry.care_log import donor_episodes
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.keys import donor_key
from kidneyshare.registry.models import Donor, Transplant

__all__ = ["ineligible_donors", "refuse_ineligible", "same_person"]


def ineligible_donors(session: Session, donor_ids: Iterable[int]) -> dict[int, PoolEligibility]:
    """Those of ``donor_ids`` that may not enter a pool, with the rule's reason."""
    wanted = set(donor_ids)
    if not wanted:
        return {}
    donations: dict[int, list[date]] = {}
    for donor_id, day in session.execute(
        select(Transplant.donor_id, Transplant.performed_on).where(Transplant.donor_id.in_(wanted))
    ):
        donations.setdefault(donor_id, []).append(day)
    episodes = donor_episodes(session, wanted)
    refused: dict[int, PoolEligibility] = {}
    for donor_id in sorted(set(donations) | set(episodes)):
        history = DonorHistory(
            DonorId(donor_key(donor_id)),
            tuple(episodes.get(donor_id, ())),
            tuple(donations.get(donor_id, ())),
        )
        verdict = may_enter_pool(history)
        if not verdict.allowed:
            refused[donor_id] = verdict
    return refused


def same_person(session: Session, centre_id: int, code: str, reference: str | None) -> list[int]:
    """Registered donors who are the donor registered as ``code`` (and ``reference``) at
    ``centre_id``: the same code at that centre, or the same reference anywhere (compared
    without case or surrounding spaces)."""
    ids = set(
        session.scalars(select(Donor.id).where(Donor.centre_id == centre_id, Donor.code == code))
    )
    if reference is not None and reference.strip():
        ids |= set(
            session.scalars(
                select(Donor.id).where(
                    func.lower(func.trim(Donor.reference)) == reference.strip().lower()
                )
            )
        )
    return sorted(ids)


def refuse_ineligible(session: Session, donor_ids: Iterable[int], field: str) -> None:
    """Raise when any of ``donor_ids`` may not enter a pool.

    Raises
    ------
    RecordConflict
        naming ``field`` and giving the rule's reason (for example the donation date).
    """
    refused = ineligible_donors(session, donor_ids)
    if refused:
        _, verdict = min(refused.items())
        raise RecordConflict(f"{field}: {verdict.reason}")
