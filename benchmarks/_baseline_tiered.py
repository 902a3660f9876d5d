"""Run inside the mhn-ai-agent-memory 1.0 venv: time its TieredMemory on the given vectors.

Usage: python _baseline_tiered.py DATA_DIR N_QUERIES. Reads base.npy and queries.npy, prints one
JSON line. Uses only the 1.0 public API (an Encoder subclass that looks texts up).
"""

import json
import os
import resource
import sys
import tempfile
import time

import numpy as np

from hopfield_memory import TieredMemory
from hopfield_memory.encoders import Encoder


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


class LookupEncoder(Encoder):
    def __init__(self, table):
        self.table = table

    @property
    def dim(self):
        return self.table["dim"]

    def encode(self, text):
        kind, i = text.split(" ", 1)
        return self.table[kind][int(i)]


def main() -> None:
    folder, n_queries = sys.argv[1], int(sys.argv[2])
    base = np.load(os.path.join(folder, "base.npy"))
    queries = np.load(os.path.join(folder, "queries.npy"))[:n_queries]
    table = {"dim": base.shape[1], "fact": base, "q": queries}
    with tempfile.TemporaryDirectory() as cold:
        before = rss_mb()
        start = time.perf_counter()
        mem = TieredMemory(encoder=LookupEncoder(table), cold_path=os.path.join(cold, "c"))
        for i in range(len(base)):
            mem.store(f"fact {i}")
        build = time.perf_counter() - start
        after = rss_mb()
        times, found = [], []
        for j in range(len(queries)):
            t0 = time.perf_counter()
            res = mem.retrieve(f"q {j}", top_k=1)
            times.append(time.perf_counter() - t0)
            found.append(int(res[0].fact.split()[1]) if res else -1)
    print(
        json.dumps(
            {
                "build_s": build,
                "rss_mb": after - before,
                "times": times,
                "found": found,
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
