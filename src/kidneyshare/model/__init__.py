"""Frozen, validated value types for a kidney sharing pool (no I/O, no solvers)."""

from kidneyshare.model.arc import Arc
from kidneyshare.model.arc_table import ArcTable
from kidneyshare.model.blood import BloodGroup
from kidneyshare.model.instance import Instance
from kidneyshare.model.people import Altruist, Donor, DonorId, Pair, Patient, PatientId
from kidneyshare.model.statistics import PoolStatistics, describe

__all__ = [
    "Altruist",
    "Arc",
    "ArcTable",
    "BloodGroup",
    "Donor",
    "DonorId",
    "Instance",
    "Pair",
    "Patient",
    "PatientId",
    "PoolStatistics",
    "describe",
]
