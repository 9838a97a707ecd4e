"""Run the benchmark: cold builds against the floor, and every single edit as a build and in the preview.

    python -m benchmarks [--sizes 1000 10000] [--runs 3] [--peers [hugo,pelican,mkdocs]] [--out benchmarks/RESULTS.md]
                         [--work DIR] [--edits-only | --pages-only] [--search [--pagefind BIN]]

Corpora come from ../shared/bench/make_corpus.py (deterministic). Every number
is the median of --runs whole-process runs; peak memory is the child's max RSS.
Ratios are taken within one run, so machine noise mostly cancels. --peers also
times other generators on the same corpus (see benchmarks/peers.py). The edits (body, title,
summary, new article, tag, deletion, profile, no-op) are defined and timed in benchmarks/edits.py;
--edits-only leaves out the floor and the cold repeats (one cold build makes the site).
--search adds a reader's first search queries in a headless Chromium (benchmarks/search.py).
Every run also reports the page sizes of each size's cold build output (benchmarks/pages.py:
the largest HTML page, the HTML pages over the 400 KB budget, the largest other file);
--pages-only makes only that: one cold build per size, no floor, no edits, no preview.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from benchmarks import edits, pages, peers, search

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS_SCRIPT = REPO.parent / "shared" / "bench" / "make_corpus.py"
WORK = HERE / "corpora"
PEERS_VENV = WORK / "peers-venv"


def set_work(folder: Path) -> None:
    global WORK, PEERS_VENV
    WORK, PEERS_VENV = folder, folder / "peers-venv"


def run(cmd: list[str], cwd: Path = REPO) -> tuple[float, int]:
    """Wall time (s) and peak RSS (MB) of one process."""
    with tempfile.TemporaryFile() as errors:  # (a pipe would fill up, and the build block, on a site with many warnings)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def corpus(n: int, plain: bool = False) -> Path:
    """The corpus of n documents (`plain`: the form other generators read), made once."""
    target = WORK / f"{'plain' if plain else 'corpus'}-{n}"
    if not (target / "content").is_dir():
        if not CORPUS_SCRIPT.is_file():
            raise SystemExit(f"missing {CORPUS_SCRIPT}: the benchmark corpora come from shared/bench beside the repo")
        subprocess.run([sys.executable, str(CORPUS_SCRIPT), "--n", str(n), "--out", str(target),
                        *(["--plain"] if plain else [])], check=True, stdout=subprocess.DEVNULL)
    return target


def clean(site: Path, out: Path) -> None:
    for folder in (out, site / ".briefing-cache", out.parent / ".briefing-cache"):
        shutil.rmtree(folder, ignore_errors=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def build_cmd(site: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(out)]


@dataclass
class Result:
    n: int
    figures: dict[str, float]  # the summary table's columns (see `table`)
    edits: dict[str, edits.Figures]  # by edit kind (see edits.LABELS)
    load: tuple[float, float]  # the 1-minute load average before and after
    pages: pages.Sizes  # of the cold build's output, before any edit


def repeated(cmd: list[str], runs: int, reset: Callable[[], None]) -> tuple[float, int]:
    """`cmd` run `runs` times, each after `reset()`: median wall time (s) and max peak RSS (MB)."""
    samples = []
    for _ in range(runs):
        reset()
        samples.append(run(cmd))
    return median([wall for wall, _ in samples]), max(mb for _, mb in samples)


def floor(site: Path, n: int, runs: int) -> dict[str, float]:
    """The floor in 1 and 2 processes: median wall time `floor{procs}` and max peak RSS `floor{procs}_mb`."""
    floor_out = WORK / f"floor-{n}"
    r: dict[str, float] = {}
    for procs in (1, 2):
        cmd = [sys.executable, "-m", "benchmarks.floor", str(site / "content"), str(floor_out), str(procs)]
        r[f"floor{procs}"], r[f"floor{procs}_mb"] = repeated(cmd, runs, lambda: shutil.rmtree(floor_out, True))
    shutil.rmtree(floor_out, ignore_errors=True)
    return r


def measure(n: int, runs: int, peer_names: list[str], edits_only: bool, pages_only: bool = False) -> Result:
    site = corpus(n)
    out = WORK / f"out-{n}"
    load = os.getloadavg()[0]
    r: dict[str, float] = {"n": n, **({} if edits_only or pages_only else floor(site, n, runs))}
    r["cold"], r["cold_mb"] = repeated(build_cmd(site, out), 1 if edits_only or pages_only else runs,
                                       lambda: clean(site, out))
    sizes = pages.sizes(out)  # the cold build's output, before any edit
    figures = {"cold": edits.Figures(build=r["cold"], build_mb=int(r["cold_mb"]))}
    if pages_only:
        if peer_names:
            r.update(peers.times(peer_names, corpus(n, plain=True), PEERS_VENV, runs, run))
        return Result(n, r, figures, (load, os.getloadavg()[0]), sizes)
    edits.build_figures(site, out, n, runs, run, build_cmd(site, out), figures)
    edits.preview_figures(site, WORK / f"serve-{n}", n, runs, REPO, figures)
    # the summary table's edit columns, from the edits' figures
    r["warm"], r["noop"] = figures["title"].build, figures["noop"].build
    r["serve_edit_ms"], r["serve_title_ms"] = figures["body"].served_ms, figures["title"].served_ms
    r["serve_title_all_ms"] = figures["title"].rebuild_ms
    if peer_names:
        r.update(peers.times(peer_names, corpus(n, plain=True), PEERS_VENV, runs, run))
    return Result(n, r, figures, (load, os.getloadavg()[0]), sizes)


def table(results: list[dict[str, float]], peer_names: list[str]) -> str:
    """One row per size; per peer: its cold build (peak MB) and peer cold / our cold (> 1: we are faster)."""
    head = ("| N docs | floor 1 proc | floor 2 procs | cold build (peak MB) | cold / floor-2 | warm (title edit) | no-op "
            "| serve: body edit → served | serve: title edit → served | serve: title edit → all rewritten |")
    for name in peer_names:
        head += f" {name} cold (peak MB) | {name} / ours (cold) |" + (" warm / hugo |" if name == "hugo" else "")
    lines = [head, "|---" * head.count(" |") + "|"]
    for r in results:
        row = (f"| {int(r['n']):,} | {r['floor1']:.2f} s | {r['floor2']:.2f} s | {r['cold']:.2f} s ({int(r['cold_mb'])}) | "
               f"{r['cold'] / r['floor2']:.2f}× | {r['warm']:.2f} s | {r['noop']:.2f} s | {r['serve_edit_ms']:.0f} ms | "
               f"{r['serve_title_ms']:.0f} ms | {r['serve_title_all_ms']:.0f} ms |")
        for name in peer_names:
            row += f" {r[name]:.2f} s ({int(r[name + '_mb'])}) | {r[name] / r['cold']:.2f}× |"
            row += f" {r['warm'] / r['hugo']:.2f}× |" if name == "hugo" else ""
        lines.append(row)
    if len(results) >= 2:
        small, big = results[0], results[-1]
        growth = (big["cold"] / big["n"]) / (small["cold"] / small["n"])
        lines.append("")
        lines.append(f"Time per document at {int(big['n']):,} vs {int(small['n']):,} (cold): {growth:.2f}×.")
    return "\n".join(lines)


def compile_bytecode() -> None:
    """Compile our modules to bytecode first, as for any installed package (pip compiles what
    it installs; Python writes the rest on first import unless PYTHONDONTWRITEBYTECODE is
    set, as it is on some CI machines). Otherwise every timed process of ours would compile
    them again (50 ms), while the peers, pip-installed, do not."""
    import compileall

    for folder in ("generator", "benchmarks"):
        compileall.compile_dir(REPO / folder, quiet=1)


def machine() -> str:
    """The machine, as RESULTS.md describes it."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.machine()}, {cpu}, {os.cpu_count()} CPUs, {memory:.0f} GB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def commit() -> str:
    """The commit of the code measured, and whether `generator/` differs from it."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run([*git, "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "generator"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    subject = head.stdout.strip()
    return f"`{subject[:90]}{'…' if len(subject) > 90 else ''}`" + (", with uncommitted changes to generator/" if dirty else "")


def edits_section(results: list[Result], hugo: bool) -> str:
    """RESULTS.md: one table of single edits per size, and how to read them."""
    parts = ["## Single edits, as `briefing build` and in the preview"]
    for result in results:
        ref = result.figures
        hugo_cold = f"; Hugo cold {ref['hugo']:.2f} s ({int(ref['hugo_mb'])} MB)" if hugo else ""
        parts.append(f"### {result.n:,} documents (load average {result.load[0]:.2f} before, "
                     f"{result.load[1]:.2f} after{hugo_cold})\n\n{edits.table(result.edits, ref.get('hugo'))}")
    parts.append(f"### Reading these figures (edit rows)\n\n{edits.READING}")
    return "\n\n".join(parts)


def report(args: argparse.Namespace, results: list[Result], peer_names: list[str], versions: dict[str, str],
           started: datetime.datetime) -> str:
    """The whole of RESULTS.md for this run."""
    command = shlex.join(["python", "-m", "benchmarks", *sys.argv[1:]])
    head = (f"# Benchmark results\n\n`{command}`\n\n- date: {started:%Y-%m-%d %H:%M} (local time)\n"
            f"- machine: {machine()}\n- code measured: {commit()}\n- medians of {args.runs} run{'s' if args.runs > 1 else ''}"
            f"{'' if WORK == HERE / 'corpora' else f'; files in {WORK}'}")
    about_peers = ("Peers, cold builds of the same documents (`make_corpus.py --plain`), each pip-installed by "
                   "name into a throwaway virtualenv; \"peer / ours\" > 1 means we are faster:\n\n"
                   + peers.describe(peer_names, versions)) if peer_names else ""
    summary = ("" if args.edits_only or args.pages_only
               else f"## Cold builds against the floor\n\n{table([r.figures for r in results], peer_names)}")
    cold = ("" if not args.pages_only else "## Cold builds\n\n| N docs | cold build | peak MB | load average before, after |\n"
            "|---|---|---|---|\n" + "\n".join(
                f"| {r.n:,} | {r.figures['cold']:.2f} s | {int(r.figures['cold_mb'])} | {r.load[0]:.2f}, {r.load[1]:.2f} |"
                for r in results))
    edit_rows = "" if args.pages_only else edits_section(results, "hugo" in peer_names)
    sizes = pages.section([(r.n, r.pages) for r in results])
    return "\n\n".join(part for part in (head, about_peers, summary, cold, sizes, edit_rows) if part) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers", nargs="?", const=",".join(peers.PEERS), default="", metavar="NAMES",
                        help=f"also time these peers (comma list; alone: {','.join(peers.PEERS)}), "
                             "pip-installed by name into a throwaway venv, on the same corpus")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--work", type=Path, default=WORK, metavar="DIR",
                        help="where corpora, outputs and the peers' virtualenv live (default: benchmarks/corpora); "
                             "e.g. a tmpfs such as /dev/shm/bench to take the disk out of the figures")
    parser.add_argument("--search", action="store_true",
                        help="also measure a reader's first search queries in a headless Chromium (bytes fetched, "
                             "time to results) on each size's output; see benchmarks/search.py")
    parser.add_argument("--pagefind", metavar="BIN", help="with --search: also time Pagefind's binary indexing the output")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--edits-only", action="store_true",
                      help="only the single edits (build and preview): no floor, one cold build to make the site; "
                           "peers only if --peers is given")
    only.add_argument("--pages-only", action="store_true",
                      help="only one cold build per size and its page sizes (largest HTML page, pages over the "
                           "400 KB budget, largest other file): no floor, no edits, no preview")
    args = parser.parse_args()
    set_work(args.work.resolve())
    chosen = {name.strip() for name in args.peers.split(",") if name.strip()}
    if chosen - set(peers.PEERS):
        parser.error(f"--peers: unknown {', '.join(sorted(chosen - set(peers.PEERS)))} (known: {', '.join(peers.PEERS)})")
    peer_names = [name for name in peers.PEERS if name in chosen]
    WORK.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    versions = peers.install(PEERS_VENV, peer_names) if peer_names else {}
    started = datetime.datetime.now()
    results = []
    for n in args.sizes:
        print(f"measuring {n} documents…", file=sys.stderr, flush=True)
        results.append(measure(n, args.runs, peer_names, args.edits_only, args.pages_only))
        print(report(args, results, peer_names, versions, started), file=sys.stderr, flush=True)
    text = report(args, results, peer_names, versions, started)
    if args.search:  # on each size's output as the edits left it (every edit reverted), built again from scratch
        targets = []
        for n in args.sizes:
            site, out = corpus(n), WORK / f"search-out-{n}"
            clean(site, out)
            run(build_cmd(site, out))
            targets.append((n, site, out))
        text += "\n" + search.section(targets, args.pagefind, WORK) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
