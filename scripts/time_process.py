#!/usr/bin/env python3
"""Wall and CPU seconds (user + system, from the child's rusage) of N runs of a command, each
a process of its own, its standard output discarded. Prints the medians, "WALL CPU", and with
--rss the largest peak RSS in MiB after them. bench_start, bench_sweep, bench_trace,
compare_scalesim and ab_time (two executables alternated, for a machine whose speed drifts)
time their commands with this file (run, or imported for timed_runs).
compare_booksim, compare_dramsim3 and bench_mesh still time theirs inline: they keep the
command's output, run it in another folder, or go on past a failed run, which this file does
not offer.
usage: time_process.py [--rss] [--no-stderr] [--digits D] N COMMAND [ARG ...]
  --no-stderr  discard the command's standard error too (progress lines)
  --digits D   decimals printed (default 6)"""
import os
import statistics
import sys
import time


def timed_runs(argv, n, env=None, stderr=True):
    """(walls, cpus, peak RSS in KiB) of n runs of argv; exits with a message if one fails."""
    null = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null, 1)] + ([] if stderr else [(os.POSIX_SPAWN_DUP2, null, 2)])
    walls, cpus, rss = [], [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ if env is None else env, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        walls.append(time.perf_counter() - t0)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"time_process: {' '.join(argv)} failed: exit {os.waitstatus_to_exitcode(status)}")
    os.close(null)
    return walls, cpus, rss


def main(args):
    rss, stderr, digits = False, True, 6
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag == "--rss":
            rss = True
        elif flag == "--no-stderr":
            stderr = False
        elif flag == "--digits":
            digits = int(args.pop(0))
        else:
            sys.exit(f"time_process: unknown option {flag}\n{__doc__}")
    if len(args) < 2:
        sys.exit(__doc__)
    walls, cpus, peak = timed_runs(args[1:], int(args[0]), stderr=stderr)
    out = f"{statistics.median(walls):.{digits}f} {statistics.median(cpus):.{digits}f}"
    print(out + (f" {peak / 1024:.0f}" if rss else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
