"""make_raw.py writes a data set of bench/harness.py's Gaussian mixture as raw
little-endian float32 files, for bench_engine --raw BASE,QUERIES:

    /usr/bin/python3 bench/make_raw.py --n 1000000 --d 768 --queries 1000 --out /tmp/raw

writes OUT/base-nN-dD.f32 and OUT/queries-nN-dD.f32: draws from the mixture
the harness makes for the same d, clusters and seed (base rows drawn in
slices of 100,000, so not the very points one harness draw gives); the first
m rows of a base file are a data set of m rows (head -c).

    /usr/bin/python3 bench/make_raw.py --from-npz bench/out/data-n200000-d768-q500-c100-s42-k10.npz --out /tmp/raw

writes the very rows and queries of a data set the harness cached (what
bench/compare.sh ran) as OUT/npz-base-nN-dD.f32 and OUT/npz-queries-nN-dD.f32:
an engine result can differ between the two draws (docs/engine.md,
"Layer-1 beam width")."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import mixture  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default="/tmp/raw")
    ap.add_argument("--from-npz", help="write this harness data file's base and queries instead of drawing")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.from_npz:
        z = np.load(args.from_npz)
        n, d = z["base"].shape
        base_path = os.path.join(args.out, f"npz-base-n{n}-d{d}.f32")
        z["base"].astype("<f4").tofile(base_path)
        z["queries"].astype("<f4").tofile(os.path.join(args.out, f"npz-queries-n{n}-d{d}.f32"))
        print(base_path)
        return
    draw = mixture(args.d, args.clusters, args.seed)
    base_path = os.path.join(args.out, f"base-n{args.n}-d{args.d}.f32")
    with open(base_path, "wb") as f:
        r = np.random.default_rng(args.seed + 1)
        # in slices, so a million rows of 768 never need two copies at once
        for start in range(0, args.n, 100000):
            draw(min(100000, args.n - start), r).astype("<f4").tofile(f)
    draw(args.queries, np.random.default_rng(args.seed + 2)).astype("<f4").tofile(
        os.path.join(args.out, f"queries-n{args.n}-d{args.d}.f32"))
    print(base_path)


if __name__ == "__main__":
    main()
