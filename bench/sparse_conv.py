"""Benchmark 4: would an event-driven convolution beat the emulator's dense int8 one?

A spike convolution can be computed two ways: densely (every input position times every
weight, what the emulator does with oneDNN's int8 kernels), or event by event (for each input
spike, add the weight rows it reaches into the outputs: work proportional to the number of
spikes). This times both on the same binary input at a range of spike densities, on one
3x3 layer, and prints where the event-driven kernel starts to win. Both give the same integer
sums (checked). The event-driven kernel is written here for the measurement only (numba,
channels-last, int32 rows added with the vector units); it is not part of the emulator, since
it did not win at any density measured (docs/performance.md).

    python bench/sparse_conv.py                 # 32->32 channels, 32x32, 64 frames
    python bench/sparse_conv.py --quick         # a smoke test
"""

from __future__ import annotations

import argparse
import sys

import numba
import numpy as np
import torch
from benchlib import best_seconds, machine, table

from spikedeploy.sim.int8 import int8_conv


@numba.njit(cache=True, boundscheck=False)
def event_conv(spikes, weight, padding):
    """spikes (F, H, W, C) uint8, weight (kh, kw, C, C') int32 -> (F, H', W', C') int32 sums
    of a stride-1 cross-correlation, spike by spike: first the list of spiking channels at each
    input position, then for each output position the weight rows of the spikes in its window,
    added into one accumulator row. (Of the forms tried, the fastest here: scattering each
    spike's rows into the outputs was 1.6x slower at 10 % density, its stores and loads of the
    same rows waiting on each other.)"""
    frames, height, width, channels = spikes.shape
    kh, kw, _, out_channels = weight.shape
    out_h, out_w = height + 2 * padding - kh + 1, width + 2 * padding - kw + 1
    out = np.empty((frames, out_h, out_w, out_channels), np.int32)
    counts = np.zeros((height, width), np.int32)
    spiking = np.empty((height, width, channels), np.int32)
    row_sum = np.zeros(out_channels, np.int32)
    for f in range(frames):
        for y in range(height):
            for x in range(width):
                n = 0
                for c in range(channels):
                    if spikes[f, y, x, c]:
                        spiking[y, x, n] = c
                        n += 1
                counts[y, x] = n
        for oy in range(out_h):
            for ox in range(out_w):
                row_sum[:] = 0
                for ky in range(kh):
                    y = oy + ky - padding
                    if y < 0 or y >= height:
                        continue
                    for kx in range(kw):
                        x = ox + kx - padding
                        if x < 0 or x >= width:
                            continue
                        for j in range(counts[y, x]):
                            taps = weight[ky, kx, spiking[y, x, j]]
                            for o in range(out_channels):
                                row_sum[o] += taps[o]
                out[f, oy, ox] = row_sum
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--frames", type=int, default=64, help="samples x time steps")
    parser.add_argument("--densities", default="0.005,0.01,0.02,0.05,0.1,0.2,0.35")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.channels, args.size, args.frames, args.repeats = 8, 8, 4, 1
    torch.set_num_threads(1)            # numba's kernel is one thread: compare like with like
    rng = np.random.default_rng(0)
    c, size = args.channels, args.size
    weight = rng.integers(-128, 128, (c, c, 3, 3))
    dense = int8_conv(weight, (1, 1), (1, 1), (1, 1), 1)
    if dense is None:
        print("no exact int8 convolution on this machine: nothing to compare against")
        return 1
    taps = np.ascontiguousarray(weight.transpose(2, 3, 1, 0), dtype=np.int32)
    print(f"machine: {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(f"layer: 3x3 conv {c}->{c} channels at {size}x{size}, {args.frames} frames, 1 thread\n")
    rows = [("spike density", "dense int8 ms", "event-driven ms", "event-driven / dense",
             "same sums")]
    for density in (float(d) for d in args.densities.split(",")):
        spikes = (rng.random((args.frames, size, size, c)) < density).astype(np.uint8)
        frames = torch.from_numpy(spikes).permute(0, 3, 1, 2)       # channels-last view
        dense_s = best_seconds(lambda frames=frames: dense(frames), args.repeats)
        event_s = best_seconds(lambda spikes=spikes: event_conv(spikes, taps, 1), args.repeats)
        same = np.array_equal(dense(frames).permute(0, 2, 3, 1).numpy().astype(np.int64),
                              event_conv(spikes, taps, 1).astype(np.int64))
        rows.append((f"{density:.3f}", f"{dense_s * 1e3:.3f}", f"{event_s * 1e3:.3f}",
                     f"{event_s / dense_s:.2f}", str(same)))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
