"""Coverage of the town: checkpoint reach, screening, closure, leaks, staffing and patrols."""

from geodata.analysis.coverage.report import FIGURES, coverage_report
from geodata.analysis.coverage.rollup import Level

__all__ = ["FIGURES", "Level", "coverage_report"]
