"""The thresholds of copy detection and plausibility, in one frozen dataclass.

Every figure is a field without a default: the values live once, in
`DEFAULT_REPLAY_PARAMS`, which the settings copy (the `TRIP_VERIFY` mapping). The fields
that shape a stored signature (`scheme()`) must not change under stored rows: a new value
is a new scheme, and the stored signatures are computed again from the raw files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final


@dataclass(frozen=True)
class ReplayParams:
    metric_crs: str
    """Projected CRS (metres) in which shapes are measured."""

    # -- The shape signature (stored; see scheme()) --------------------------------------
    smooth_s: float
    """Width of the centred moving average over fixes, in time, before resampling."""
    step_m: float
    """Spacing of the stored polyline along the path (arc length)."""
    feature_step_m: float
    """Spacing of the points whose cells are the MinHash features."""
    cell_m: float
    """Side of the square cells the feature points are quantised to."""
    bands: int
    rows: int
    """MinHash LSH: `bands` band keys of `rows` minima each (bands × rows permutations)."""
    min_length_m: float
    """A path shorter than this gets no signature (too little to tell a copy)."""

    # -- Candidates and confirmation -----------------------------------------------------
    max_candidates: int
    """Confirm at most this many candidates, those sharing the most band keys first."""
    search_m: float
    """A point of the new path overlaps the other path when that path is this close."""
    copy_distance_m: float
    """A point is matched when the other trip, time-aligned, is within this distance."""
    max_median_m: float
    """A copy's median time-aligned distance over the overlap is at most this."""
    max_spread_m: float
    """...and what is left of the time-aligned difference once a rigid shift is taken off
    (`Match.spread_m`) is at most this."""
    min_matched_share: float
    """A copy matches at least this share of the new path's length..."""
    min_matched_m: float
    """...and at least this many metres."""

    # -- Physical plausibility -------------------------------------------------------------
    max_gap_s: float
    """Fixes further apart in time than this are separate runs (as in verification)."""
    accel_window_s: float
    """Acceleration is the change of speed over this window (speed from positions)."""
    accel_max_step_s: float
    """Acceleration is judged only on runs of fixes at most this far apart in time."""
    max_accel_mps2: float
    max_decel_mps2: float
    max_speed_diff_mps: float
    """Median |speed column − speed from positions| above this disagrees."""
    min_speed_samples: int
    """Fewer compared fixes than this give no speed figure."""
    line_window_s: float
    """Windows of this length are fitted with a straight line at constant velocity."""
    min_line_residual_m: float
    """A window whose RMS residual from that line is below this is machine-straight."""
    max_straight_share: float
    """More than this share of windows machine-straight is too smooth for a receiver."""
    min_line_windows: int
    """Fewer windows than this give no smoothness figure."""

    def scheme(self) -> str:
        """The parameters a stored signature depends on, as a short stable string."""
        return (
            f"v1;{self.metric_crs};s{self.smooth_s:g};p{self.step_m:g};"
            f"f{self.feature_step_m:g};c{self.cell_m:g};b{self.bands}x{self.rows}"
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ReplayParams:
        """Build from a settings mapping that may hold other keys too; all fields required."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in values]
        if missing:
            raise KeyError(f"replay parameters missing: {', '.join(missing)}")
        return cls(**{n: values[n] for n in names})


DEFAULT_REPLAY_PARAMS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "metric_crs": "EPSG:4547",
        "smooth_s": 1.0,
        "step_m": 10.0,
        "feature_step_m": 2.0,
        "cell_m": 4.0,
        "bands": 30,
        "rows": 5,
        "min_length_m": 200.0,
        "max_candidates": 50,
        "search_m": 10.0,
        "copy_distance_m": 2.0,
        "max_median_m": 1.2,
        "max_spread_m": 0.5,
        "min_matched_share": 0.5,
        "min_matched_m": 200.0,
        "max_gap_s": 10.0,
        "accel_window_s": 4.0,
        "accel_max_step_s": 2.0,
        "max_accel_mps2": 5.0,
        "max_decel_mps2": 9.0,
        "max_speed_diff_mps": 2.0,
        "min_speed_samples": 30,
        "line_window_s": 60.0,
        "min_line_residual_m": 0.02,
        "max_straight_share": 0.5,
        "min_line_windows": 2,
    }
)
