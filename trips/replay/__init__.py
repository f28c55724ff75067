"""Copy (replay) detection and physical plausibility of a trace. Pure: numpy, no Django.

"A kilometre is paid once" (DESIGN §4.7): the same fixes under another encoding
(`fix_fingerprint`), the same recording re-timed, thinned, nudged or moved to another
vehicle (`fingerprint` → `ReplayIndex.candidates` → `confirm`), and traces no receiver on
a road vehicle records (`plausibility_flags`). See docs/decisions/0004-copy-detection.md.
"""

from trips.replay.index import ReplayIndex
from trips.replay.match import Match, confirm, find_copy, is_copy, measure
from trips.replay.params import DEFAULT_REPLAY_PARAMS, ReplayParams
from trips.replay.plausibility import (
    Acceleration,
    Flag,
    SpeedDisagreement,
    Straightness,
    acceleration,
    plausibility_flags,
    speed_disagreement,
    straightness,
)
from trips.replay.signature import (
    ShapeSignature,
    fingerprint,
    fingerprint_metric,
    fix_fingerprint,
)

__all__ = [
    "DEFAULT_REPLAY_PARAMS",
    "Acceleration",
    "Flag",
    "Match",
    "ReplayIndex",
    "ReplayParams",
    "ShapeSignature",
    "SpeedDisagreement",
    "Straightness",
    "acceleration",
    "confirm",
    "find_copy",
    "fingerprint",
    "fingerprint_metric",
    "fix_fingerprint",
    "is_copy",
    "measure",
    "plausibility_flags",
    "speed_disagreement",
    "straightness",
]
