#!/usr/bin/python3
"""plot.py draws the PNG plots of benchmark results that bench/compare.sh and
bench/streaming.sh write (bench/results/compare_<label>.json,
streaming_<label>.json), into <results>/plots/ beside them (or --out):

  compare_<label>_recall_qps.png  recall@k against QPS per ef_search, one line per
                                  system, the recall 0.95 line marked;
  compare_<label>_filtered.png    QPS unfiltered and at 50%, 10%, 1% of the rows per
                                  system, recall written on each bar;
  compare_<label>_clients.png     total QPS against client processes per system;
  streaming_<label>_latency.png   p50 and p99 per 10 s window per system, one panel
                                  per rate, the at-rest values before the stream.

A section missing from the results gives no plot; a file with none of them is
reported and skipped. Needs Debian's python3-matplotlib: run it with /usr/bin/python3.

  /usr/bin/python3 bench/plot.py bench/results/compare_h100k.json
  /usr/bin/python3 bench/plot.py bench/results/compare_*.json bench/results/streaming_*.json"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

DPI = 100
COLORS = {"vecdb": "tab:blue", "pgvector": "tab:orange"}
RECALL_TARGET = 0.95
# Filters of compare.py in the order the bars show them, after unfiltered.
FILTER_ORDER = ["cat50", "cat10", "cat1"]


def color(system):
    """color returns the fixed colour of a system, so every plot matches."""
    return COLORS.get(system, "tab:green")


def log_y(ax):
    """log_y puts ax's y axis on a log scale ticked at 1, 2, 3 and 5 times powers of ten, in plain numbers."""
    ax.set_yscale("log")
    axis = ax.yaxis
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def recorded(systems, key):
    """recorded returns the first system's value of key, at its top or in its setup
    (compare.py records them at the top, streaming.py in setup), or None."""
    for s in systems.values():
        value = s.get(key) or s.get("setup", {}).get(key)
        if value:
            return value
    return None


def system_label(name, s):
    """system_label returns a system's name with the extension version it ran."""
    version = s.get("extversion") or s.get("setup", {}).get("extversion")
    return f"{name} {version}" if version else name


def hardware_note(meta, systems):
    """hardware_note returns the subtitle line: CPUs, SIMD level, PostgreSQL, commit, date."""
    simd, server = recorded(systems, "simd"), recorded(systems, "server_version")
    parts = [f"{meta.get('cpus', '?')} CPUs" + (f" ({simd})" if simd else "")]
    if server:
        parts.append(f"PostgreSQL {server.split()[0]}")
    parts.append(f"commit {meta.get('git_commit', '?')[:10]}")
    if meta.get("date"):
        parts.append(meta["date"][:10])
    return ", ".join(parts)


def data_note(meta):
    """data_note returns the data set in words: N x d, k and the query count."""
    return (f"N = {meta.get('n', 0):,} x {meta.get('d', '?')}, k = {meta.get('k', '?')}, "
            f"{meta.get('queries', 0):,} queries")


def title(ax_or_fig, what, meta, systems, detail=None):
    """title puts the plot's subject with the data set, then any detail line, then the hardware note."""
    lines = [f"{what} ({meta.get('label', '?')}): {data_note(meta)}", detail, hardware_note(meta, systems)]
    text = "\n".join(line for line in lines if line)
    if hasattr(ax_or_fig, "suptitle"):
        ax_or_fig.suptitle(text, fontsize=10)
    else:
        ax_or_fig.set_title(text, fontsize=10)


def save(fig, out, stem, kind, bottom=0.0):
    """save writes fig to <out>/<stem>_<kind>.png (its plots above the bottom fraction
    kept for a figure legend), closes it and prints the path."""
    path = os.path.join(out, f"{stem}_{kind}.png")
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def plot_recall_qps(res, out, stem):
    """plot_recall_qps draws recall@k against QPS (log) per ef_search, one line per system."""
    systems = {n: s for n, s in res["systems"].items() if s.get("sweep")}
    if not systems:
        return None
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for name, s in systems.items():
        pts = sorted(s["sweep"], key=lambda p: p["ef_search"])
        ax.plot([p["recall"] for p in pts], [p["qps"] for p in pts], "o-", color=color(name), label=system_label(name, s))
        for p in pts:
            ax.annotate(str(p["ef_search"]), (p["recall"], p["qps"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8, color=color(name))
    ax.set_xlim(right=max(ax.get_xlim()[1], RECALL_TARGET + 0.01))
    ax.axvline(RECALL_TARGET, color="gray", linestyle="--", linewidth=1)
    ax.text(RECALL_TARGET, 0.02, f"recall {RECALL_TARGET} ", transform=ax.get_xaxis_transform(),
            fontsize=8, color="gray", rotation=90, ha="right", va="bottom")
    log_y(ax)
    ax.set_xlabel(f"recall@{res['meta'].get('k', 10)}")
    ax.set_ylabel("QPS (one client, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="points: hnsw.ef_search", fontsize=9, title_fontsize=8)
    title(ax, "Recall vs QPS", res["meta"], res["systems"])
    return save(fig, out, stem, "recall_qps")


def unfiltered_point(s):
    """unfiltered_point returns the sweep point at the ef_search the filtered queries used."""
    ef = s.get("pick", {}).get("ef_search")
    return next((p for p in s.get("sweep", []) if p["ef_search"] == ef), None)


def filter_label(s, name):
    """filter_label returns a system's legend entry: its ef_search and any filter settings."""
    pick = s.get("pick", {})
    note = f"{name}, ef_search {pick.get('ef_search', '?')}"
    if pick and not pick.get("reached", True):
        note += f" (recall {pick.get('target', RECALL_TARGET)} not reached)"
    settings = ", ".join(f"{k}={v}" for k, v in s.get("filter_settings", {}).items())
    return note + (f"; {settings}" if settings else "")


def bar_rows(s):
    """bar_rows returns (group label, point) for unfiltered and each filter present."""
    rows = [("unfiltered", unfiltered_point(s))]
    by_filter = {p["filter"]: p for p in s.get("filtered", [])}
    rows += [(f"{by_filter[f]['selectivity']:.0%} of rows", by_filter[f]) for f in FILTER_ORDER if f in by_filter]
    return [(label, p) for label, p in rows if p]


def plot_filtered(res, out, stem):
    """plot_filtered draws QPS bars per selectivity per system, recall written on each bar."""
    systems = {n: s for n, s in res["systems"].items() if s.get("filtered")}
    if not systems:
        return None
    groups = []
    for s in systems.values():
        groups += [label for label, _ in bar_rows(s) if label not in groups]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    width = 0.8 / len(systems)
    for i, (name, s) in enumerate(systems.items()):
        for label, p in bar_rows(s):
            x = groups.index(label) + (i - (len(systems) - 1) / 2) * width
            ax.bar(x, p["qps"], width, color=color(name), label=filter_label(s, name))
            text = f"{p['qps']:,.0f}\nrecall {p['recall']:.3f}"
            if p.get("short_results"):
                text += f"\n{p['short_results']} short"
            ax.annotate(text, (x, p["qps"]), textcoords="offset points", xytext=(0, 2),
                        ha="center", va="bottom", fontsize=7)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper right")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_xlabel("rows passing the filter (WHERE category = ...)")
    ax.set_ylabel("QPS (one client)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.grid(True, axis="y", alpha=0.3)
    title(ax, "Filtered search", res["meta"], res["systems"])
    return save(fig, out, stem, "filtered")


def plot_clients(res, out, stem):
    """plot_clients draws total QPS against the number of client processes per system."""
    systems = {n: s for n, s in res["systems"].items() if s.get("concurrency")}
    if not systems:
        return None
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, s in systems.items():
        pts = sorted(s["concurrency"], key=lambda p: p["clients"])
        ax.plot([p["clients"] for p in pts], [p["qps"] for p in pts], "o-", color=color(name),
                label=f"{system_label(name, s)}, ef_search {pts[0].get('ef_search', '?')}")
    clients = sorted({p["clients"] for s in systems.values() for p in s["concurrency"]})
    ax.set_xscale("log", base=2)
    ax.set_xticks(clients, [str(c) for c in clients])
    ax.minorticks_off()
    ax.set_ylim(bottom=0)
    ax.set_xlabel("client processes (one connection each)")
    ax.set_ylabel("total QPS")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    title(ax, "Concurrent clients", res["meta"], res["systems"])
    return save(fig, out, stem, "clients")


def rate_title(rate, runs):
    """rate_title returns a panel's title: the rate and the rows/s each system absorbed."""
    absorbed = ", ".join(f"{name} {run['stream']['rows_per_s']:,.0f}" for name, run in runs.items()
                         if run.get("stream"))
    return f"{rate:,} rows/s streamed" + (f" (absorbed/s: {absorbed})" if absorbed else "")


def plot_rate_panel(ax, rate, runs):
    """plot_rate_panel draws one rate's p50 and p99 per window per system, the at-rest
    values as flat lines before time 0."""
    for name, run in runs.items():
        rest, wins = run.get("rest", {}), run.get("windows", [])
        ends = [w["to_s"] for w in wins]
        for key, style in (("p50_ms", "-"), ("p99_ms", "--")):
            ax.plot(ends, [w[key] for w in wins], style, marker=".", color=color(name),
                    label=f"{name} {key[:3]}")
            if key in rest:
                ax.hlines(rest[key], -run.get("at_rest_s", 10), 0, colors=color(name), linestyles=style)
    ax.axvspan(min(-r.get("at_rest_s", 10) for r in runs.values()), 0, color="gray", alpha=0.1)
    ax.text(0, 0.01, "at rest ", transform=ax.get_xaxis_transform(), ha="right", va="bottom", fontsize=8,
            color="gray")
    log_y(ax)
    ax.set_xlabel("seconds since the stream started (window end)")
    ax.set_ylabel("client latency, ms (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(rate_title(rate, runs), fontsize=9)


def stream_note(meta, systems):
    """stream_note returns the streaming plot's detail line: what streams where, and ef_search."""
    efs = {n: s["ef_search"] for n, s in systems.items() if "ef_search" in s}
    ef = (str(next(iter(efs.values()))) if len(set(efs.values())) == 1
          else ", ".join(f"{n} {v}" for n, v in efs.items()))
    into = "into a twin table without indexes (control)" if meta.get("stream_into") == "heap" else "into the index"
    return f"query latency per {meta.get('window_s', 10)} s window, rows streamed {into}, ef_search {ef}"


def plot_streaming(res, out, stem):
    """plot_streaming draws query latency per window while rows stream in, one panel per rate."""
    by_rate = {}
    for name, s in res["systems"].items():
        for run in s.get("runs", []):
            if run.get("windows"):
                by_rate.setdefault(run["rate"], {})[name] = run
    if not by_rate:
        return None
    fig, axes = plt.subplots(1, len(by_rate), figsize=(max(8, 6.5 * len(by_rate)), 5.5), squeeze=False)
    for ax, rate in zip(axes[0], sorted(by_rate)):
        plot_rate_panel(ax, rate, by_rate[rate])
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    title(fig, "Streaming ingestion", res["meta"], res["systems"], stream_note(res["meta"], res["systems"]))
    return save(fig, out, stem, "latency", bottom=0.05)


def plot_file(path, out):
    """plot_file draws every plot the results file at path has data for; returns the paths."""
    with open(path) as fh:
        res = json.load(fh)
    res.setdefault("meta", {})
    res.setdefault("systems", {})
    stem = os.path.splitext(os.path.basename(path))[0]
    out = out or os.path.join(os.path.dirname(path), "plots")
    os.makedirs(out, exist_ok=True)
    plots = [plot_recall_qps, plot_filtered, plot_clients, plot_streaming]
    written = [p for p in (fn(res, out, stem) for fn in plots) if p]
    if not written:
        print(f"{path}: no sweep, filtered, concurrency or streaming results to plot", file=sys.stderr)
    return written


def main():
    """main plots each results file named on the command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="compare_<label>.json or streaming_<label>.json")
    ap.add_argument("--out", help="directory for the PNGs (default: plots/ beside each results file)")
    args = ap.parse_args()
    for path in args.results:
        plot_file(path, args.out)


if __name__ == "__main__":
    main()
