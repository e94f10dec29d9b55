"""Pseudonyms: stable, keyed, one-way labels for people a caller may not identify.

``HMAC-SHA256(key, kind:id)``, cut to 12 hex digits: the same person always gets the
same pseudonym under the scheme's key (so analysts can follow them across runs), and
without the key the registry id cannot be recovered or guessed from it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

__all__ = ["Pseudonymiser"]


@dataclass(frozen=True, slots=True)
class Pseudonymiser:
    key: bytes

    def patient(self, patient_id: int) -> str:
        return self._label("patient", patient_id)

    def donor(self, donor_id: int) -> str:
        return self._label("donor", donor_id)

    def _label(self, kind: str, row_id: int) -> str:
        digest = hmac.new(self.key, f"{kind}:{row_id}".encode(), hashlib.sha256).hexdigest()
        return f"{kind[0]}-{digest[:12]}"
