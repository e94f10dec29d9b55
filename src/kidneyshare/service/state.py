"""What a running service holds: the engine, session factory, keys and the run worker."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.care import CarePolicy
from kidneyshare.registry.access import Principal
from kidneyshare.registry.pseudonyms import Pseudonymiser
from kidneyshare.registry.runs import execute_run
from kidneyshare.registry.unit_of_work import Actor, UnitOfWork

__all__ = ["RunWorker", "ServiceState"]

_log = logging.getLogger("kidneyshare.service")


class RunWorker:
    """Runs matching runs one at a time in a background thread (a solve uses the
    machine's cores; two at once would only slow both)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kidneyshare-run")

    def submit(self, run_id: int) -> None:
        self._pool.submit(self._execute, run_id)

    def _execute(self, run_id: int) -> None:
        try:
            status = execute_run(self._sessions, run_id)
            _log.info("matching run %s ended %s", run_id, status.value)
        except Exception:  # the run stays 'running'; a restart marks it interrupted
            _log.exception("matching run %s crashed", run_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class ServiceState:
    engine: Engine
    sessions: sessionmaker[Session]
    signing_key: str
    pseudonyms: Pseudonymiser
    access_token_minutes: int
    worker: RunWorker
    care_policy: CarePolicy
    """The scheme's follow-up schedule and alert limits (donor care)."""
    extra: dict[str, object] = field(default_factory=dict)

    def unit(self, principal: Principal) -> UnitOfWork:
        """A unit of work acting for ``principal``."""
        return UnitOfWork(self.sessions, Actor(principal.user_id, principal.username))
