"""Crash safety: SIGKILL `python -m generator build` at random points; the output folder is
always the whole old site or the whole new one, never a mix, and the next build recovers.

Two generated sites (tests/corpus.py) that share no page are built alternately into one
output folder; each build is killed after a random delay spread over a whole build
(so kills land in loading, rendering, writing and the swap). The seed is printed so
that a failure can be replayed with BRIEFING_CRASH_SEED.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, read_tree
from corpus import write_corpus

KILLS = 12
DOCUMENTS = 300  # about 1-2 s per build on two cores


def start_build(site: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(out)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(site: Path, out: Path) -> float:
    started = time.monotonic()
    proc = start_build(site, out)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode(errors="replace")
    return time.monotonic() - started


def test_a_killed_build_leaves_the_old_site_or_the_new_one(tmp_path: Path) -> None:
    seed = int(os.environ.get("BRIEFING_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"BRIEFING_CRASH_SEED={seed}")
    rng = random.Random(seed)
    sites = {"a": tmp_path / "a", "b": tmp_path / "b"}
    write_corpus(sites["a"], n=DOCUMENTS, seed=1)
    write_corpus(sites["b"], n=DOCUMENTS, seed=2)
    trees: dict[str, dict[str, bytes]] = {}
    duration = 0.0
    for name, site in sites.items():  # reference builds, each into its own folder
        duration = max(duration, finish(site, tmp_path / f"reference-{name}"))
        trees[name] = read_tree(tmp_path / f"reference-{name}")
    assert trees["a"] != trees["b"]

    out = tmp_path / "out"
    # the very first build into a folder that does not exist yet: nothing, or the whole site
    proc = start_build(sites["a"], out)
    time.sleep(rng.uniform(0.2, duration))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() or read_tree(out) == trees["a"]
    finish(sites["a"], out)
    assert read_tree(out) == trees["a"]

    # Kill until KILLS builds died mid-way; the window adapts, as warm builds (cache, spare folder) are quicker.
    current, killed, window = "a", 0, duration
    for i in range(3 * KILLS):
        if killed == KILLS:
            break
        target = "b" if current == "a" else "a"
        if i % 3 == 0:  # sometimes cold (no build cache), sometimes warm
            shutil.rmtree(sites[target] / ".briefing-cache", ignore_errors=True)
        proc = start_build(sites[target], out)
        # spread over the whole build, with extra weight near its end, where the swap happens
        delay = rng.uniform(0.05, window) if i % 2 else rng.uniform(0.6 * window, window)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            killed += 1
        else:  # it finished first: aim earlier next time
            window *= 0.7
        tree = read_tree(out)
        assert tree in (trees[current], trees[target]), (
            f"seed {seed}, kill {i} after {delay:.2f} s: the output is neither the old site nor the new one: "
            f"{len(set(tree) ^ set(trees[current]))} paths differ from the old, {len(set(tree) ^ set(trees[target]))} from the new")
        current = target if tree == trees[target] else current
    assert killed == KILLS, f"only {killed} builds were still running when killed (seed {seed})"

    # after all that, complete builds are right again, in both directions, and leave no debris in the output
    for name in ("b", "a"):
        finish(sites[name], out)
        assert read_tree(out) == trees[name]
    strays = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert not strays, strays
