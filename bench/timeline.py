#!/usr/bin/env python3
"""When each process of a whole command's tree is busy: a CPU timeline, sampled from /proc.

    .venv/bin/python bench/timeline.py -- wiredesk run --input DIR --workers 2 --quiet --store S --out O
    .venv/bin/python bench/timeline.py --step 0.25 --json t.json -- trafilatura --input-dir DIR ...

Every ``--sample`` seconds (default 0.02) the process tree under the command is read from
/proc (user+sys clock ticks of each process, so 10 ms resolution); per ``--step`` bucket
(default 0.5 s) it prints how much of a core each process used, and the sum (2.00 = both of
two cores busy). Processes are named by role: the command (``main``), the processes it forked
directly (the warm zygote, or the pool's workers when it forks them itself) and those
forked by them (workers forked by the zygote), each by pid. At the end: wall, CPU of the tree
and per process, cores used, and the seconds during which the tree used less than
``--idle-below`` cores (default 1.5) split into the run's first, middle and last thirds.
It reads, never changes, what it measures; the figures are those of a loaded machine if the
machine is loaded (the load is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time


def _snapshot() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds so far, short name) for every process."""
    hz = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[int, float, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.find(b"(") + 1 : stat.rfind(b")")].decode("utf-8", "replace")
        fields = stat[stat.rfind(b")") + 2 :].split()
        out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / hz, name)
    return out


def record(cmd: list[str], sample: float) -> tuple[float, list[tuple[float, dict[int, float]]], dict[int, str]]:
    """Run ``cmd``; the samples (time since start, pid -> CPU seconds) of its tree, and roles."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: list[tuple[float, dict[int, float]]] = []
    roles: dict[int, str] = {}
    done = threading.Event()

    def loop() -> None:
        while True:
            now = time.perf_counter() - started
            snap = _snapshot()
            tree: dict[int, float] = {}
            depth = {proc.pid: 0}
            todo = [proc.pid]
            children: dict[int, list[int]] = {}
            for pid, (ppid, _, _) in snap.items():
                children.setdefault(ppid, []).append(pid)
            while todo:
                p = todo.pop()
                if p in snap:
                    tree[p] = snap[p][1]
                    if p not in roles:
                        roles[p] = "main" if p == proc.pid else f"d{depth[p]}:{snap[p][2][:12]}:{p}"
                for c in children.get(p, []):
                    depth[c] = depth[p] + 1
                    todo.append(c)
            samples.append((now, tree))
            if done.is_set():
                return
            time.sleep(sample)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    err = proc.stderr.read() if proc.stderr else b""
    proc.wait()
    wall = time.perf_counter() - started
    done.set()
    thread.join()
    if proc.returncode:
        sys.stderr.write(err.decode("utf-8", "replace")[-2000:])
        raise SystemExit(f"command failed ({proc.returncode})")
    return wall, samples, roles


def buckets(samples: list[tuple[float, dict[int, float]]], step: float, wall: float) -> list[dict[int, float]]:
    """CPU seconds each pid used in each ``step`` bucket (a pid's CPU counts where it grew)."""
    n = int(wall / step) + 1
    out: list[dict[int, float]] = [{} for _ in range(n)]
    last: dict[int, float] = {}
    for t, tree in samples:
        i = min(n - 1, int(t / step))
        for pid, cpu in tree.items():
            grew = cpu - last.get(pid, 0.0)
            if grew > 0:
                out[i][pid] = out[i].get(pid, 0.0) + grew
            last[pid] = max(last.get(pid, 0.0), cpu)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=float, default=0.02)
    parser.add_argument("--step", type=float, default=0.5)
    parser.add_argument("--idle-below", type=float, default=1.5)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("give the command after --")
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    wall, samples, roles = record(cmd, args.sample)
    table = buckets(samples, args.step, wall)
    pids = sorted({p for row in table for p in row}, key=lambda p: (roles.get(p, "") != "main", p))
    print("t(s)  " + " ".join(f"{roles.get(p, str(p))[-14:]:>14s}" for p in pids) + "    cores")
    low = [0.0, 0.0, 0.0]
    for i, row in enumerate(table):
        cores = sum(row.values()) / args.step
        span = min(args.step, wall - i * args.step)
        if cores < args.idle_below and span > 0:
            low[min(2, int(3 * i * args.step / wall))] += span
        print(
            f"{i * args.step:5.1f} "
            + " ".join(f"{row.get(p, 0.0) / args.step:14.2f}" for p in pids)
            + f"    {cores:5.2f}"
        )
    total = {p: max((tree.get(p, 0.0) for _, tree in samples), default=0.0) for p in pids}
    cpu = sum(total.values())
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s ({cpu / wall:.2f} cores); per process: "
          + ", ".join(f"{roles.get(p, p)} {s:.2f}" for p, s in total.items()))  # fmt: skip
    print(f"seconds under {args.idle_below} cores: first third {low[0]:.1f}, middle {low[1]:.1f}, last {low[2]:.1f}"
          f"; load after {os.getloadavg()[0]:.2f}")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"wall": wall, "cpu": total, "roles": roles, "buckets": table}, f)


if __name__ == "__main__":
    main()
