#!/usr/bin/env python3
"""Median wall and CPU seconds (user + system, from the child's rusage) of N runs of a
command, each a process of its own, its standard output discarded. Prints "WALL CPU".
usage: time_process.py N COMMAND [ARG ...]"""
import os
import statistics
import sys
import time

n, argv = int(sys.argv[1]), sys.argv[2:]
null = os.open(os.devnull, os.O_WRONLY)
walls, cpus = [], []
for _ in range(n):
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
    _, status, usage = os.wait4(pid, 0)
    walls.append(time.perf_counter() - t0)
    cpus.append(usage.ru_utime + usage.ru_stime)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"time_process: {' '.join(argv)} failed")
print(f"{statistics.median(walls):.6f} {statistics.median(cpus):.6f}")
