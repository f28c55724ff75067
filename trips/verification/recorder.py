"""The data recorder against the trace (docs/verification.md, "The recorder decides").

Where the recorder covers a trip, a step is autonomous only where the trace claims it and
the recorder's control intervals support it; metres claimed but not supported, beyond
`review_recorder_share` of the claimed autonomous metres or `review_recorder_min_m`, hold
the trip for review. Pure, like the rest of the package.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recorder.disengagements import in_intervals
from trips.reason_codes import TripReason

from .findings import Finding

BoolArray = npt.NDArray[np.bool_]


def supported_modes(
    t_ns: npt.NDArray[np.int64], claimed: BoolArray, intervals: npt.NDArray[np.int64] | None
) -> BoolArray:
    """Each fix autonomous as claimed and, where the recorder covers the trip, supported."""
    if intervals is None:
        return claimed
    supported: BoolArray = claimed & in_intervals(t_ns, intervals)
    return supported


def unsupported_flag(
    flags: list[Finding],
    *,
    intervals: npt.NDArray[np.int64] | None,
    claimed: BoolArray | None,
    auto_step: BoolArray,
    measured: npt.NDArray[np.float64],
    share: float,
    min_m: float,
) -> None:
    """Flag the metres claimed autonomous (both ends of a step) that the recorder does not
    support; nothing where the recorder does not cover the trip (`intervals` None)."""
    if intervals is None or claimed is None:
        return
    claimed_step = claimed[:-1] & claimed[1:]
    claimed_m = float(measured[claimed_step].sum())
    unsupported_m = float(measured[claimed_step & ~auto_step].sum())
    if unsupported_m > share * claimed_m or unsupported_m > min_m:
        flags.append(
            Finding(
                TripReason.MODE_UNSUPPORTED_BY_RECORDER,
                f"{unsupported_m:.0f} m claimed autonomous outside the data recorder's "
                "activation intervals; only the supported metres are credited.",
                metres=unsupported_m,
            )
        )
