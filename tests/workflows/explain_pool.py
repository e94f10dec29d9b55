"""A pool whose explanations are known by construction (plain ABO rule, HLA serology).

- X1 (A patient, B donor) and X2 (B patient, A donor) swap: the only two-way exchange.
- X3: an O patient (anti-A titre 4) with an A donor. Only an O donor could give to them
  and there is none: ``no-compatible-donor``. Accepting ABO-incompatible transplants up
  to titre 8 adds exactly X2's donor -> X3 (anti-B titres are not recorded), which closes
  the three-way X1 -> X2 -> X3: three transplants instead of two, X3 matched.
- X4..X7: AB patients with AB donors (who can give only to AB patients, so these four
  form exchanges only among themselves). Unacceptable antigens leave just the four-way
  X4 -> X5 -> X6 -> X7 (each donor gives to the next patient only): with cycles of at
  most 3 pairs and no altruist, ``only-long-exchanges``; with K = 4 all four are matched.

Centres alternate so that every exchange crosses centres: GLA holds X1, X3, X4, X6 and
LON X2, X5, X7.
"""

from __future__ import annotations

from typing import Any

from workflow_scheme import DAY, Scheme

from kidneyshare.registry import DonorFacts, PatientFacts, UnitOfWork
from kidneyshare.registry.pool import DonorEntry, pair_donors, register_pair

__all__ = ["PAIRS", "register_pool"]

_AB_DONOR_HLA = {"X4": "A1", "X5": "A2", "X6": "A3", "X7": "A11"}
# each AB patient refuses every AB donor but the previous one in X4 -> X5 -> X6 -> X7
_AB_UNACCEPTABLE = {
    "X4": ["A2", "A3"],
    "X5": ["A3", "A11"],
    "X6": ["A1", "A11"],
    "X7": ["A1", "A2"],
}

PAIRS: list[dict[str, Any]] = [
    {"code": "X1", "centre": "GLA", "patient": {"blood_group": "A"}, "donor": {"blood_group": "B"}},
    {"code": "X2", "centre": "LON", "patient": {"blood_group": "B"}, "donor": {"blood_group": "A"}},
    {
        "code": "X3",
        "centre": "GLA",
        "patient": {"blood_group": "O", "anti_a_titre": 4},
        "donor": {"blood_group": "A"},
    },
    *(
        {
            "code": code,
            "centre": "GLA" if code in ("X4", "X6") else "LON",
            "patient": {"blood_group": "AB", "unacceptable_antigens": _AB_UNACCEPTABLE[code]},
            "donor": {"blood_group": "AB", "hla": [hla]},
        }
        for code, hla in _AB_DONOR_HLA.items()
    ),
]


def register_pool(scheme: Scheme) -> tuple[dict[str, int], dict[str, int]]:
    """The pool of ``explain_pool``: patient ids and donor ids by pair code."""
    patients, donors = {}, {}
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        for spec in PAIRS:
            patient, donor = dict(spec["patient"]), dict(spec["donor"])
            patient["hla"] = tuple(patient.get("hla", ()))
            patient["unacceptable_antigens"] = tuple(patient.get("unacceptable_antigens", ()))
            donor["hla"] = tuple(donor.get("hla", ()))
            pair = register_pair(
                uow,
                scheme.centres[spec["centre"]],
                spec["code"],
                [DonorEntry(f"{spec['code']}d", facts=DonorFacts(DAY, **donor))],
                patient_facts=PatientFacts(DAY, **patient),
            )
            patients[spec["code"]] = pair.patient_id
            donors[spec["code"]] = pair_donors(uow.session, pair)[0].id
    return patients, donors
