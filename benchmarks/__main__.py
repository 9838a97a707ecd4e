"""Run the benchmark: cold, warm, no-op and serve-edit builds against the floor.

    python -m benchmarks [--sizes 1000 10000] [--runs 3] [--peers [hugo,pelican,mkdocs]] [--out benchmarks/RESULTS.md]
                         [--work DIR]

Corpora come from ../shared/bench/make_corpus.py (deterministic). Every number
is the median of --runs whole-process runs; peak memory is the child's max RSS.
Ratios are taken within one run, so machine noise mostly cancels. --peers also
times other generators on the same corpus (see benchmarks/peers.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks import peers

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
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
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


def edit(site: Path, i: int, title: bool = True) -> Path:
    """Change one document's body (and title), as an analyst would."""
    path = sorted((site / "content" / "notes").glob("*.md"))[i % 50]
    text = path.read_text(encoding="utf-8")
    if title:  # a revised title that keeps its place in the lists (one that moves takes the full build)
        stamp = f"{i}.{time.time_ns() % 10**9}"  # never the title it had: runs of the benchmark edit the same files
        text = re.sub(r'^title: "(.*?)(?: \[edit [\d.]+\])?"$', lambda m: f'title: "{m.group(1)} [edit {stamp}]"',
                      text, count=1, flags=re.M)
    text += f"\n\nEdit marker bench-{i}-{time.time_ns()}.\n"
    path.write_text(text, encoding="utf-8")
    return path


def median(values: list[float]) -> float:
    return statistics.median(values)


def build_cmd(site: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(out)]


def measure(n: int, runs: int, peer_names: list[str]) -> dict[str, float]:
    site = corpus(n)
    out = WORK / f"out-{n}"
    floor_out = WORK / f"floor-{n}"
    r: dict[str, float] = {"n": n}
    for procs in (1, 2):
        times, mems = [], []
        for _ in range(runs):
            shutil.rmtree(floor_out, ignore_errors=True)
            t, m = run([sys.executable, "-m", "benchmarks.floor", str(site / "content"), str(floor_out), str(procs)])
            times.append(t)
            mems.append(m)
        r[f"floor{procs}"], r[f"floor{procs}_mb"] = median(times), max(mems)
    shutil.rmtree(floor_out, ignore_errors=True)

    cold, cold_mb = [], []
    for _ in range(runs):
        clean(site, out)
        t, m = run(build_cmd(site, out))
        cold.append(t)
        cold_mb.append(m)
    r["cold"], r["cold_mb"] = median(cold), max(cold_mb)

    time.sleep(2.1)  # let the cache trust the corpus files (see load.RACY_SECONDS)
    warm, noop = [], []
    for i in range(runs):
        edit(site, i)
        warm.append(run(build_cmd(site, out))[0])
        noop.append(run(build_cmd(site, out))[0])
    r["warm"], r["noop"] = median(warm), median(noop)
    r["serve_edit_ms"], _ = serve_edit(site, n, runs, title=False)
    r["serve_title_ms"], r["serve_title_all_ms"] = serve_edit(site, n, runs, title=True)
    if peer_names:
        r.update(peers.times(peer_names, corpus(n, plain=True), PEERS_VENV, runs, run))
    return r


def serve_edit(site: Path, n: int, runs: int, title: bool) -> tuple[float, float]:
    """Save one document -> its rebuilt page served, and -> every affected page rewritten
    (the server's own "rebuilt in" figure), in ms (medians)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = WORK / f"serve-{n}"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--site", str(site), "--port", str(port),
                             "--output", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(proc.stderr or ()), daemon=True).start()
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "serving" not in line:
            raise SystemExit(f"serve did not start: {line}")
        base = line.split()[1]
        latencies, rebuilds = [], []
        for i in range(max(runs, 5)):
            time.sleep(0.3)
            done = sum("rebuilt in" in entry for entry in log)
            path = edit(site, 100 + i, title)
            marker = path.read_text(encoding="utf-8").rsplit("Edit marker ", 1)[1].split(".", 1)[0]
            slug = path.stem
            start = time.perf_counter()
            while True:
                try:
                    with urllib.request.urlopen(f"{base}notes/{slug}/", timeout=30) as response:
                        if marker.encode() in response.read():
                            break
                except urllib.error.HTTPError:
                    pass
                if time.perf_counter() - start > 60:
                    raise SystemExit("serve never showed the edit")
                time.sleep(0.002)
            latencies.append((time.perf_counter() - start) * 1000)
            while sum("rebuilt in" in entry for entry in log) == done:  # the rest of the rebuild
                if time.perf_counter() - start > 120:
                    raise SystemExit("the rebuild never ended")
                time.sleep(0.01)
            finished = [entry for entry in log if "rebuilt in" in entry][-1]
            rebuilds.append(float(finished.split("rebuilt in ", 1)[1].split(" ms", 1)[0]))
        return median(latencies), median(rebuilds)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(out, ignore_errors=True)


def table(results: list[dict[str, float]], peer_names: list[str]) -> str:
    """One row per size; per peer: its cold build (peak MB) and peer cold / our cold (> 1: we are faster)."""
    head = ("| N docs | floor 1 proc | floor 2 procs | cold build (peak MB) | cold / floor-2 | warm (1 edit) | no-op "
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
    args = parser.parse_args()
    set_work(args.work.resolve())
    chosen = {name.strip() for name in args.peers.split(",") if name.strip()}
    if chosen - set(peers.PEERS):
        parser.error(f"--peers: unknown {', '.join(sorted(chosen - set(peers.PEERS)))} (known: {', '.join(peers.PEERS)})")
    peer_names = [name for name in peers.PEERS if name in chosen]
    WORK.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    versions = peers.install(PEERS_VENV, peer_names) if peer_names else {}
    results = []
    for n in args.sizes:
        print(f"measuring {n} documents…", file=sys.stderr, flush=True)
        results.append(measure(n, args.runs, peer_names))
        print(table(results, peer_names), file=sys.stderr, flush=True)
    about_peers = ("\n\nPeers, cold builds of the same documents (`make_corpus.py --plain`), each pip-installed by "
                   "name into a throwaway virtualenv; \"peer / ours\" > 1 means we are faster:\n\n"
                   + peers.describe(peer_names, versions)) if peer_names else ""
    text = (f"# Benchmark results\n\n`python -m benchmarks --sizes {' '.join(map(str, args.sizes))} --runs {args.runs}"
            f"{' --peers ' + ','.join(peer_names) if peer_names else ''}` on {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}; medians of {args.runs} runs"
            f"{'' if WORK == HERE / 'corpora' else f'; files in {WORK}'}.{about_peers}\n\n"
            f"{table(results, peer_names)}\n")
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
