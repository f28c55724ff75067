"""JT/T 808 decoder benchmark: location frames per second on one core (run by hand).

    .venv/bin/python bench/bench_jt808_decode.py [--frames 200000] [--repeats 5]

A simulated fleet (--vehicles terminals at 1 Hz, 2013 headers, one in ten 2019) sends
0x0200 location reports with odometer, satellites and the driving-mode extra; about one
frame in six carries a byte that must be escaped. The frames are encoded once, then timed:

- per frame: `decode_frame` (unescape, XOR check, header) + `decode_message` (the
  location body and its extras) over the frames as the reader cuts them;
- stream: the same frames as one TCP byte stream fed in 4 KiB reads through a
  `FrameReader` (splitting included), then `decode_message` on each packet;
- per frame with every fix a different second (no two share a time, so the BCD time
  cache never hits: the worst case; a fleet's fixes share their seconds).

Each is run --repeats times; the best run is printed by wall clock (perf_counter) and by
CPU time (process_time), with the load average before and after, and each is held
against the target (DESIGN.md §7): >= 100,000 location frames/s on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telemetry.jt808 import (
    FrameReader,
    Location,
    Packet,
    decode_frame,
    decode_message,
    encode_message,
)

TARGET = 100_000
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def fleet_frames(frames: int, vehicles: int, *, distinct_times: bool) -> list[bytes]:
    out = []
    for n in range(frames):
        vehicle, second = n % vehicles, n // vehicles
        when = T0 + timedelta(seconds=n if distinct_times else second)
        fix = Location(
            alarm=0,
            status=0b10,
            lat_e6=37_856_000 + vehicle * 37 + second * 11,
            lon_e6=113_583_000 + vehicle * 53 + second * 13,
            altitude_m=700 + vehicle % 100,
            speed_kmh_x10=(vehicle * 7 + second) % 1200,
            heading_deg=(vehicle + second) % 360,
            time=when,
            odometer_km_x10=vehicle * 1000 + second,
            satellites=12,
            autonomous=vehicle % 3 != 0,
        )
        version = 1 if vehicle % 10 == 0 else None
        phone = f"{13_800_000_000 + vehicle:0{20 if version else 12}d}"
        out.append(encode_message(fix, phone=phone, serial=second & 0xFFFF, version=version))
    return out


def per_frame(frames: list[bytes]) -> int:
    autonomous = 0
    for frame in frames:
        fix = decode_message(decode_frame(frame))
        autonomous += fix.autonomous  # type: ignore[union-attr]
    return autonomous


def stream(data: bytes) -> int:
    reader = FrameReader()
    autonomous = 0
    for at in range(0, len(data), 4096):
        for item in reader.feed(data[at : at + 4096]):
            autonomous += decode_message(item).autonomous  # type: ignore[arg-type, union-attr]
    return autonomous


def best(run: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    walls, cpus, result = [], [], 0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def verdict(rate: float) -> str:
    return "(meets)" if rate >= TARGET else "(MISSES)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--vehicles", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    frames = fleet_frames(args.frames, args.vehicles, distinct_times=False)
    scattered = fleet_frames(args.frames, args.vehicles, distinct_times=True)
    inner = [frame[1:-1] for frame in frames]  # as FrameReader cuts them
    inner_scattered = [frame[1:-1] for frame in scattered]
    wire = b"".join(frames)
    escaped = sum(b"\x7d" in frame for frame in inner)
    expected = sum(vehicle % 3 != 0 for vehicle in (n % args.vehicles for n in range(args.frames)))
    sample = decode_frame(inner[0])
    assert isinstance(sample, Packet)

    print(
        f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
        f"on {os.cpu_count()} cores (above the core count, wall clock includes waiting "
        "for a core: CPU time is then the one-core figure)"
    )
    print(
        f"{args.frames:,} location frames, {args.vehicles:,} vehicles, "
        f"{len(wire) / args.frames:.1f} bytes/frame on the wire, {escaped:,} with escapes; "
        f"best of {args.repeats}"
    )
    cases: list[tuple[str, Callable[[], int]]] = [
        ("per frame", lambda: per_frame(inner)),
        ("stream (FrameReader, 4 KiB reads)", lambda: stream(wire)),
        ("per frame, every time distinct", lambda: per_frame(inner_scattered)),
    ]
    for name, run in cases:
        wall, cpu, autonomous = best(run, args.repeats)
        assert autonomous == expected, (autonomous, expected)
        print(
            f"  {name:34s} {args.frames / wall:>9,.0f} frames/s wall {verdict(args.frames / wall)}"
            f"  {args.frames / cpu:>9,.0f} frames/s CPU {verdict(args.frames / cpu)}"
            f"  ({cpu * 1e6 / args.frames:.2f} us CPU/frame)"
        )
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
