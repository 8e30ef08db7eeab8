"""Turn benchmarks/results.json (from run.py) into the Markdown tables of RESULTS.md, targets marked.

    .venv/bin/python benchmarks/report.py [benchmarks/results.json]
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BANDWIDTH_BOUND = ["mse", "mae", "huber", "pseudo_huber", "hinge", "squared_hinge"]
TRANSCENDENTAL = ["log_cosh", "msle", "binary_cross_entropy", "sigmoid_cross_entropy"]
SKLEARN_MIN = {"mse": 2.0, "mae": 2.0, "huber": 5.0, "sigmoid_cross_entropy": 5.0}


def mark(ok):
    return "met" if ok else "**not met**"


def table(title, columns, rows) -> list[str]:
    """A Markdown section: its title, then one row per tuple of cells."""
    return ["", f"### {title}", "", "| " + " | ".join(columns) + " |", "|---" * len(columns) + "|",
            *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)]  # fmt: skip


def main(path):
    with open(path) as f:
        r = json.load(f)
    out, targets = [], []
    m = r["machine"]
    out.append(f"Command: `{r['command']}`  ")
    out.append(f"Machine: {m['cpu']}, {m['threads']} threads; Python {m['python']}, NumPy {m['numpy']}, "
               f"numba {m['numba']}, PyTorch {m['torch']}  ")  # fmt: skip
    la, lb = r.get("load_average_at_start"), r.get("load_average_at_end")
    if la:
        out.append(f"Load average (1, 5, 15 min) at start {tuple(round(x, 2) for x in la)}, at end "
                   f"{tuple(round(x, 2) for x in lb)}; wall time {r.get('wall_seconds', 0):.0f} s")  # fmt: skip
    if "elementwise" in r:
        rows = r["elementwise"]
        peers = [k for k in ("losskit_ref", "numpy", "torch", "torch_compile", "jax_jit", "sklearn")
                 if any(k in x["speedup"] for x in rows)]  # fmt: skip
        out += ["", f"### Elementwise value+grad, n = {rows[0]['n']:.0e} float32 (peer time / losskit time)", "",
                "| loss | losskit ms | GB/s | % of copy | % of copy, out= | value rel. error | "
                + " | ".join(peers) + " |",
                "|---" * (6 + len(peers)) + "|"]  # fmt: skip
        for x in rows:
            sp = x["speedup"]
            out.append(f"| {x['loss']} | {1e3 * x['times_s']['losskit']:.2f} | {x['losskit_GBps']:.1f} | "
                       f"{x['pct_of_copy']:.0f}% | {x['pct_of_copy_out']:.0f}% | {x['value_rel_error']:.1e} | "
                       + " | ".join(f"{sp[k]:.1f}x" if k in sp else "" for k in peers) + " |")  # fmt: skip
            name = x["loss"]
            if name in BANDWIDTH_BOUND:
                targets.append((f"{name}: >= 80% of copy bandwidth", f"{x['pct_of_copy']:.0f}%", x["pct_of_copy"] >= 80))
                targets.append((f"{name}: >= 8x PyTorch eager", f"{sp['torch']:.1f}x", sp["torch"] >= 8))
            if name in TRANSCENDENTAL:
                targets.append((f"{name}: >= 2.5x PyTorch eager", f"{sp['torch']:.1f}x", sp["torch"] >= 2.5))
                targets.append((f"{name}: no slower than jax.jit(value_and_grad)", f"{sp['jax_jit']:.2f}x",
                                sp["jax_jit"] >= 1.0))  # fmt: skip
            if "sklearn" in sp:
                need = SKLEARN_MIN.get(name, 1.0)
                targets.append((f"{name}: >= {need:g}x scikit-learn", f"{sp['sklearn']:.1f}x", sp["sklearn"] >= need))
            targets.append((f"{name}: value error <= 1e-6", f"{x['value_rel_error']:.1e}", x["value_rel_error"] <= 1e-6))
    if "torch" in r:
        out += table("PyTorch tensors, forward + backward, float32 (losskit time / torch.nn.functional time)",
                     ("loss", "shape", "losskit ms", "torch.nn.functional ms", "ratio", "ratio with value checks on"),
                     [(x["loss"], tuple(x["shape"]), f"{1e3 * x['times_s']['losskit']:.2f}",
                       f"{1e3 * x['times_s']['torch']:.2f}", f"{x['ratio']:.2f}", f"{x['ratio_validated']:.2f}")
                      for x in r["torch"]])  # fmt: skip
        for x in r["torch"]:
            targets.append((f"torch {x['loss']}: <= 1.3x torch.nn.functional", f"{x['ratio']:.2f}x", x["ratio"] <= 1.3))
    if "softmax" in r:
        x = r["softmax"]
        out += ["", f"### sparse_softmax_cross_entropy value+grad, ({x['rows']}, {x['vocab']}) float32 logits "
                f"({x['logits_bytes'] / 1e6:.0f} MB)", "",
                "| candidate | ms | time / losskit | peak extra MB | x logits |", "|---|---|---|---|---|"]  # fmt: skip
        for k, t in x["times_s"].items():
            out.append(f"| {k} | {1e3 * t:.1f} | {t / x['times_s']['losskit']:.2f} | "
                       f"{x['extra_memory_bytes'][k] / 1e6:.1f} | {x['extra_memory_x_logits'][k]:.2f} |")  # fmt: skip
        sp = x["speedup"]["torch"]
        mem = x["extra_memory_x_logits"]
        targets.append(("softmax CE: >= 4x PyTorch eager", f"{sp:.1f}x", sp >= 4))
        targets.append(("softmax CE: peak extra <= 1.1x logits", f"{mem['losskit']:.2f}x", mem["losskit"] <= 1.1))
        targets.append(("softmax CE in place: peak extra <= 5% of logits", f"{100 * mem['losskit_inplace']:.1f}%",
                        mem["losskit_inplace"] <= 0.05))  # fmt: skip
    for x in r.get("linear_cross_entropy", []):
        out += ["", f"### linear_cross_entropy rows={x['rows']} hidden={x['hidden']} vocab={x['vocab']} "
                "(peak extra memory counts the gradients of hidden and weight for every candidate)", "",
                "| candidate | s | time / matmul+CE | peak extra MB | memory / matmul+CE |", "|---|---|---|---|---|"]  # fmt: skip
        for k, t in x["times_s"].items():
            out.append(f"| {k} | {t:.2f} | {x['time_x_matmul_ce'][k]:.2f} | {x['extra_memory_bytes'][k] / 1e6:.1f} | "
                       f"{x['memory_x_matmul_ce'][k]:.2f} |")  # fmt: skip
        v, mm, tt = x["vocab"], x["memory_x_matmul_ce"], x["time_x_matmul_ce"]
        targets.append((f"linear CE vocab {v}: memory <= 0.25x matmul+CE", f"{mm['losskit']:.2f}x", mm["losskit"] <= 0.25))
        targets.append((f"linear CE vocab {v}: time <= 1.1x matmul+CE", f"{tt['losskit']:.2f}x", tt["losskit"] <= 1.1))
        if "torch_chunked" in mm:
            ok = mm["losskit"] <= mm["torch_chunked"] and tt["losskit"] <= tt["torch_chunked"]
            targets.append((f"linear CE vocab {v}: no worse than torch chunked on memory and time",
                            f"memory {mm['losskit']:.2f} vs {mm['torch_chunked']:.2f}, time {tt['losskit']:.2f} vs "
                            f"{tt['torch_chunked']:.2f}", ok))  # fmt: skip
    if "boosting" in r:
        x0 = r["boosting"][0]
        out += table(f"Boosting, {x0['rows']} rows x 20 features, {x0['rounds']} rounds of depth-6 trees (losskit's "
                     "objective time / the built-in's)",
                     ("library", "loss", "built-in", "losskit ms/round", "built-in ms/round", "ratio"),
                     [(x["library"], x["loss"], x["builtin"], f"{1e3 * x['seconds_per_round']['losskit']:.1f}",
                       f"{1e3 * x['seconds_per_round']['builtin']:.1f}", f"{x['ratio']:.2f}") for x in r["boosting"]])
        for x in r["boosting"]:
            targets.append((f"{x['library']} {x['loss']}: <= 1.5x {x['builtin']} per round", f"{x['ratio']:.2f}x",
                            x["ratio"] <= 1.5))  # fmt: skip
    if "small" in r:
        out += ["", "### Small inputs (100 elements), microseconds per call", "", "| loss | auto | reference |",
                "|---|---|---|"]  # fmt: skip
        for x in r["small"]:
            out.append(f"| {x['loss']} | {x['auto_us']:.1f} | {x['reference_us']:.1f} |")
            ratio = x["auto_us"] / x["reference_us"]
            targets.append((f"small {x['loss']}: not slower than the reference (5% noise allowed)", f"{ratio:.2f}x",
                            ratio <= 1.05))  # fmt: skip
    out += ["", "### Targets", "", "| target | measured | |", "|---|---|---|"]
    out += [f"| {name} | {value} | {mark(ok)} |" for name, value, ok in targets]
    met = sum(ok for *_, ok in targets)
    out += ["", f"{met} of {len(targets)} targets met."]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results.json"))
