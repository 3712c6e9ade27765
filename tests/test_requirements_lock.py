"""requirements.lock, which scripts/setup installs, keeps up with the ranges in pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.paths import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(r) for r in wanted]


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    pins = locked()
    stale = [
        f"{r} (locked: {pins.get(canonicalize_name(r.name), 'missing')})"
        for r in declared()
        if (r.marker is None or r.marker.evaluate())
        and not (
            canonicalize_name(r.name) in pins
            and r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
        )
    ]
    assert not stale, f"update requirements.lock (see the README): {stale}"


def test_every_locked_file_has_a_hash() -> None:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[-1]):
        if PIN.match(block):
            assert "--hash=sha256:" in block, block.splitlines()[0]
