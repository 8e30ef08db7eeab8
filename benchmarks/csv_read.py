"""Reading a user's CSV file: losskit's reader against NumPy's loadtxt and a list of csv rows.

Writes a 10^6-row, 7-column file of float32 numbers ("%.6g", about 63 MB), then reads it once per
candidate in a fresh subprocess and reports its wall time and peak memory above the interpreter's
(``VmHWM`` after the read minus ``VmRSS`` before it), as ratios to the file's size and to the peers.

    .venv/bin/python benchmarks/csv_read.py [--rows N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CANDIDATES = {
    "losskit.data.read_csv": "from losskit import data; table = data.read_csv(PATH)",
    "numpy.loadtxt": "import numpy as np; table = np.loadtxt(PATH, delimiter=',', skiprows=1)",
    "csv rows (the reader before)": "import csv; table = list(csv.reader(open(PATH, newline='')))",
}

MEASURE = """
import time
def status(key):
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key)) * 1024
import numpy, losskit
PATH = {path!r}
before = status('VmRSS:')
start = time.perf_counter()
{code}
print(time.perf_counter() - start, status('VmHWM:') - before)
"""


def write(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 5)).astype(np.float32)
    y = x @ np.array([1.0, 2.0, -1.0, 0.5, 0.0], dtype=np.float32) + rng.standard_t(2, rows).astype(np.float32)
    table = np.column_stack([x, y, y + rng.normal(size=rows).astype(np.float32)])
    np.savetxt(path, table, delimiter=",", fmt="%.6g", header="x0,x1,x2,x3,x4,y,yhat", comments="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10**6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        write(path, args.rows)
        size = path.stat().st_size
        print(f"file: {args.rows} rows, {size / 1e6:.1f} MB")
        results = {}
        for name, code in CANDIDATES.items():
            done = subprocess.run([sys.executable, "-c", MEASURE.format(path=str(path), code=code)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            seconds, extra = map(float, done.stdout.split())
            results[name] = (seconds, extra)
        ours_time, ours_memory = results["losskit.data.read_csv"]
        for name, (seconds, extra) in results.items():
            print(f"{name:30s} {seconds:6.2f} s ({seconds / ours_time:4.2f}x losskit)  "
                  f"{extra / 1e6:7.1f} MB ({extra / size:4.2f}x the file, {extra / ours_memory:4.2f}x losskit)")  # fmt: skip


if __name__ == "__main__":
    main()
