"""A scheme's matching rules as one versioned TOML file: K, L, the objective hierarchy,
the age rule and solver settings.

A policy file (``policies/uk.toml`` is the UK scheme's)::

    [policy]
    name = "uk"
    version = "2026.1"
    description = "..."
    references = ["..."]

    [matching]
    max_cycle = 3
    max_chain = 2
    objective = "uk"             # or "hierarchy" with levels = [...]

    [age_rule]                   # optional: the score criterion's donor-age points
    bonus = 3.0

    [solver]                     # optional
    time_limit = 600

Every key is checked: an unknown table or key, or a value of the wrong kind, is an
error naming the file and the key. ``[policy]`` is required, with a name and a version,
so that a matching run records exactly which rules it used.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from kidneyshare.errors import ConfigError, FormatError
from kidneyshare.matching.config import AgeRule, SolverConfig

__all__ = ["BUNDLED_POLICIES", "Policy", "configure", "load_policy", "parse_policy"]

BUNDLED_POLICIES = ("max-transplants", "uk", "uk-nhsbt")
"""Policies shipped with kidneyshare (``policies/<name>.toml``), loadable by name."""

_MATCHING_KEYS = {
    "max_cycle",
    "max_chain",
    "objective",
    "levels",
    "default_probability",
    "formulation",
}
_SOLVER_KEYS = {"backend", "time_limit", "threads", "seed"}
_POLICY_KEYS = {"name", "version", "description", "references"}
_AGE_RULE_KEYS = {f.name for f in fields(AgeRule)}


@dataclass(frozen=True, slots=True)
class Policy:
    """A named, versioned set of matching rules and the solver configuration they make."""

    name: str
    version: str
    config: SolverConfig
    description: str = ""
    references: tuple[str, ...] = ()
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as a matching run records it."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "references": list(self.references),
            "config": self.config.to_dict(),
        }


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Read a policy from TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"not valid TOML: {exc}", source=source) from None
    unknown = set(data) - {"policy", "matching", "age_rule", "solver"}
    if unknown:
        raise FormatError(f"unknown table(s) {sorted(unknown)}", source=source)
    head = _table(data, "policy", _POLICY_KEYS, source, required=True)
    matching = _table(data, "matching", _MATCHING_KEYS, source, required=True)
    solver = _table(data, "solver", _SOLVER_KEYS, source)
    age = _table(data, "age_rule", _AGE_RULE_KEYS, source)
    for key in ("name", "version"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise FormatError("expected non-empty text", source=source, location=f"policy.{key}")
    description = head.get("description", "")
    references = head.get("references", [])
    if not isinstance(description, str):
        raise FormatError("expected text", source=source, location="policy.description")
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise FormatError("expected a list of texts", source=source, location="policy.references")
    try:
        config = SolverConfig(**matching, **solver, age_rule=AgeRule(**age))
    except ConfigError as exc:
        raise FormatError(str(exc), source=source) from None
    return Policy(
        name=head["name"],
        version=head["version"],
        config=config,
        description=description,
        references=tuple(references),
        source=source,
    )


def load_policy(name_or_path: str | Path) -> Policy:
    """A bundled policy by name (:data:`BUNDLED_POLICIES`) or a policy file by path."""
    if isinstance(name_or_path, str) and name_or_path in BUNDLED_POLICIES:
        resource = resources.files("kidneyshare") / "policies" / f"{name_or_path}.toml"
        return parse_policy(resource.read_text(encoding="utf-8"), f"policies/{name_or_path}.toml")
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        bundled = ", ".join(BUNDLED_POLICIES)
        raise ConfigError(
            f"policy: no file {str(path)!r} and no bundled policy of that name ({bundled})"
        ) from None
    except UnicodeDecodeError:
        raise FormatError("not UTF-8 text", source=str(path)) from None
    return parse_policy(text, str(path))


def configure(policy: str | Path | None = None, **options: Any) -> SolverConfig:
    """A policy's configuration (``SolverConfig()`` without one) with every option that
    is not ``None`` put over it, as the command line does: ``--max-cycle 4`` beats the
    policy's K. A new ``objective`` without ``levels`` drops the policy's levels."""
    base = load_policy(policy).config if policy is not None else SolverConfig()
    changes = {k: v for k, v in options.items() if v is not None}
    if "levels" in changes:
        changes["levels"] = tuple(changes["levels"])
    if "objective" in changes and "levels" not in changes:
        changes["levels"] = ()
    try:
        return replace(base, **changes)
    except TypeError as exc:  # an option SolverConfig does not have: a programming error
        raise ValueError(f"configure: {exc}") from None


def _table(
    data: dict[str, Any], name: str, keys: set[str], source: str, *, required: bool = False
) -> dict[str, Any]:
    table = data.get(name)
    if table is None:
        if required:
            raise FormatError(f"the [{name}] table is required", source=source, location=name)
        return {}
    if not isinstance(table, dict):
        raise FormatError("expected a table", source=source, location=name)
    unknown = sorted(set(table) - keys)
    if unknown:
        raise FormatError(
            f"unknown key; expected one of {sorted(keys)}",
            source=source,
            location=f"{name}.{unknown[0]}",
        )
    return dict(table)
