#!/usr/bin/env python3
"""compare_modules.py: where hwopt and ONNX Runtime differ, module by module.

compare.py says how the two tools compare end to end; this says where. Each round runs
`hwopt profile` (per-step times) and `node bench/ort_bench.js --profile` (ONNX Runtime's own
per-node profiler), alternating, on the same model, batch and threads. Both tools' nodes are
grouped by the module path of their ONNX node names (PyTorch exports name nodes like
`/features/features.3/conv/conv.0/Conv`; the module at depth 2 is `/features/features.3`):

- an hwopt step counts for the module of the last ONNX node it was fused from (the one that
  produces its output; ONNX Runtime names its fused NCHWc nodes after that output too);
- an ONNX Runtime node counts for the module of its name (its NCHWc nodes are named after their
  output tensor, which carries the path too); a node ONNX Runtime named itself
  (`SkipLayerNormalization_token_45`, `ReorderOutput`) counts for the module of the node that ran
  just before it, and the table says how much time was placed that way.

Per module and tool: the median over rounds of the sum of per-node medians. The per-node times
come from runs with timers on both sides; the end-to-end row gives hwopt's runs without timers
(`hwopt profile` times both) and ONNX Runtime's with its profiler on (it has no other). Use the
table for attribution, and compare.py for the headline ratio.

Usage: /usr/bin/python3 bench/compare_modules.py MODEL [--batch B] [--runs R] [--rounds N]
           [--depth D] [--threads T] [--dim NAME=SIZE ...] [--build-dir DIR] [--json FILE]
           [--markdown FILE]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from compare import HERE, find_program, log, run_json

UNATTRIBUTED = "(before any named node)"


def die(msg):
    print(f"compare_modules.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, timeout):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        die(f"{' '.join(cmd)} took over {timeout:.0f} s")
    if r.returncode != 0:
        die(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()[-2000:]}")
    return r.stdout


def module_of(name, depth):
    """The module path of an ONNX node (or tensor) name at `depth`, or None if it has no path."""
    if not name.startswith("/"):
        return None
    parts = name.strip("/").split("/")[:-1]  # the last part names the op or tensor
    if not parts:
        return "/"  # a top-level node: /Add, /Shape
    return "/" + "/".join(parts[:depth])


def hwopt_nodes(profile):
    """[(time ms, [ONNX node names], op)] per step of an hwopt profile JSON, in execution order."""
    out = []
    for s in profile["steps"]:
        names = s.get("onnx_nodes") or [s["node"]]
        out.append((s["ms"]["median"], names, s["op_type"]))
    return out


def ort_nodes(trace, runs):
    """[(time ms, [node name], op)] per node of an ONNX Runtime profile, in execution order, each the
    median of its last `runs` kernel times (the earlier ones are the first and warm-up runs)."""
    times, order, ops = {}, [], {}
    for e in trace:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        name = e["name"][: -len("_kernel_time")]
        if name not in times:
            times[name] = []
            order.append(name)
            ops[name] = e.get("args", {}).get("op_name", "?")
        times[name].append(e["dur"] / 1000.0)
    return [(statistics.median(times[n][-runs:]), [n], ops[n]) for n in order]


def by_module(nodes, depth):
    """{module: ms} and the ms placed by position (nodes without a path name). A node standing for
    several ONNX nodes (listed in execution order) counts for the module of the last one, which
    produces its output: ONNX Runtime names its fused NCHWc nodes after that output too (ResNet's
    /conv1/Conv + /relu/Relu is /relu/Relu_output_0_nchwc there)."""
    sums, placed, last = {}, 0.0, UNATTRIBUTED
    for ms, names, _ in nodes:
        mods = [m for m in (module_of(n, depth) for n in names) if m is not None]
        if mods:
            last = mods[-1]
        else:
            placed += ms
        sums[last] = sums.get(last, 0.0) + ms
    return sums, placed


def choose_depth(nodes):
    """The smallest depth that splits the model into at least 8 modules (at most 4)."""
    for depth in range(1, 5):
        mods = {module_of(n, depth) for _, names, _ in nodes for n in names}
        if len({m for m in mods if m}) >= 8:
            return depth
    return 4


def main():
    ap = argparse.ArgumentParser(description="hwopt against ONNX Runtime, module by module (per-node profiles)")
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20, help="profiled runs per tool per round")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="alternating [hwopt, ORT] rounds")
    ap.add_argument("--depth", type=int, default=0, help="module path depth (0: the smallest giving 8+ modules)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dim", action="append", default=[], metavar="NAME=SIZE")
    ap.add_argument("--build-dir", default=None)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json", default=None, help="also write the table and raw per-round sums here")
    ap.add_argument("--markdown", default=None, help="also write the table here")
    args = ap.parse_args()
    if not os.path.exists(args.model):
        die(f"model {args.model} not found")
    if args.runs < 1 or args.rounds < 1:
        die("--runs and --rounds must be at least 1")
    hwopt = find_program(args.build_dir, "hwopt")
    if not hwopt:
        die("no hwopt binary in build/ or build-bench/ (or --build-dir): build it first (make build)")
    dims = [x for d in args.dim for x in ("--dim", d)]

    rounds = {"hwopt": [], "ort": []}
    e2e = {"hwopt": [], "ort": []}
    placed = {"hwopt": [], "ort": []}
    order = []
    depth = args.depth
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds}: hwopt profile")
            hj = os.path.join(tmp, "hwopt.json")
            run([hwopt, "profile", args.model, "--batch", str(args.batch), "--threads", str(args.threads),
                 "--runs", str(args.runs), "--warmup", str(args.warmup), "--json-file", hj] + dims, args.timeout)
            with open(hj) as f:
                hp = json.load(f)
            hn = hwopt_nodes(hp)
            if not any(module_of(n, 1) not in (None, "/") for _, names, _ in hn for n in names):
                die(f"the node names of {args.model} carry no module path (PyTorch exports write "
                    "/module/submodule/Op); this script groups by it, so it has nothing to group here")
            log(f"round {r + 1}/{args.rounds}: ONNX Runtime with its profiler")
            oj = os.path.join(tmp, "ort.json")
            ort_run, why = run_json(["node", os.path.join(HERE, "ort_bench.js"), args.model, "--batch",
                                     str(args.batch), "--threads", str(args.threads), "--runs", str(args.runs),
                                     "--warmup", str(args.warmup), "--profile", oj] + dims, args.timeout)
            if why:
                die(f"ONNX Runtime: {why}")
            with open(oj) as f:
                on = ort_nodes(json.load(f), args.runs)
            if depth == 0:
                depth = choose_depth(hn)
            for tool, nodes in (("hwopt", hn), ("ort", on)):
                sums, p = by_module(nodes, depth)
                rounds[tool].append(sums)
                placed[tool].append(p)
                for m in sums:
                    if m not in order:
                        order.append(m)
            e2e["hwopt"].append(hp["end_to_end_ms"]["median"])
            e2e["ort"].append(ort_run["median_ms"])

    def med(tool, m):
        return statistics.median(s.get(m, 0.0) for s in rounds[tool])

    rows = [(m, med("hwopt", m), med("ort", m)) for m in order]
    total_h = statistics.median(sum(s.values()) for s in rounds["hwopt"])
    total_o = statistics.median(sum(s.values()) for s in rounds["ort"])
    lines = [
        f"`{os.path.basename(args.model)}`, batch {args.batch}, {args.threads} threads, {args.rounds} rounds x "
        f"{args.runs} profiled runs, modules at depth {depth}",
        "",
        "| module | hwopt ms | ORT ms | hwopt / ORT | hwopt − ORT ms |",
        "|---|---|---|---|---|",
    ]
    for m, h, o in rows:
        ratio = f"{h / o:.2f}" if o > 0 else "—"
        lines.append(f"| `{m}` | {h:.3f} | {o:.3f} | {ratio} | {h - o:+.3f} |")
    lines.append(f"| **sum of nodes** | **{total_h:.3f}** | **{total_o:.3f}** | **{total_h / total_o:.2f}** | "
                 f"**{total_h - total_o:+.3f}** |")
    lines.append(f"| end to end (hwopt: runs without timers; ORT: with its profiler on) | {statistics.median(e2e['hwopt']):.3f} | "
                 f"{statistics.median(e2e['ort']):.3f} | | |")
    lines.append("")
    lines.append(f"Placed by position (nodes a tool named itself): hwopt {statistics.median(placed['hwopt']):.3f} ms, "
                 f"ONNX Runtime {statistics.median(placed['ort']):.3f} ms.")
    worst = sorted(rows, key=lambda x: x[2] - x[1])[:5]
    worst = [w for w in worst if w[1] > w[2]]
    if worst:
        lines.append("Where hwopt loses most: " + ", ".join(f"`{m}` {h - o:+.3f} ms" for m, h, o in worst) + ".")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "batch": args.batch, "threads": args.threads, "depth": depth,
                       "rows": [{"module": m, "hwopt_ms": h, "ort_ms": o} for m, h, o in rows],
                       "rounds": rounds, "end_to_end_ms": e2e, "placed_by_position_ms": placed}, f, indent=1)


if __name__ == "__main__":
    main()
