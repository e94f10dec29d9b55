"""The matching engine: ``solve(instance, config) -> Result`` and an independent ``verify``."""

from kidneyshare.matching.config import AgeRule, Criterion, Objective, SolverConfig
from kidneyshare.matching.result import Donation, Exchange, ExchangeKind, Result, Status
from kidneyshare.matching.solve import solve
from kidneyshare.matching.verify import VerificationReport, verify

__all__ = [
    "AgeRule",
    "Criterion",
    "Donation",
    "Exchange",
    "ExchangeKind",
    "Objective",
    "Result",
    "SolverConfig",
    "Status",
    "VerificationReport",
    "solve",
    "verify",
]
