#!/usr/bin/python3
"""Peer benchmark: hwopt against ONNX Runtime 1.30, alternating, on the same inputs.

    /usr/bin/python3 bench/compare.py [--backend cpu] [--models resnet50,mobilenetv2,bert_base]
                                      [--batches 1,8] [--rounds 3] [--runs 10] [--warmup 3]
                                      [--models-dir DIR] [--dim NAME=SIZE ...]

For each model x batch it runs --rounds rounds; each round runs bench/hwopt_bench (--runs timed
runs after --warmup) and bench/ort_bench.js (the same), alternating which goes first from round to
round, so that machine noise and drift hit both. Then it prints a Markdown table:

  median / p90 latency  over all timed runs of all rounds, per tool
  hwopt/ORT             the median of the per-round ratios of medians (min-max over rounds in brackets)
  throughput            batch * 1000 / median, samples per second
  GFLOP/s               2 * textbook MACs * batch / median
  % roof                GFLOP/s / the machine's FP32 ceiling, measured by bench/matmul_peak
                        (oneDNN f32 matmul 2048^3, fastest of its runs)
  outputs agree         relative difference of the outputs' mean |y| between the tools (same inputs)

With --json FILE the raw results (every timed sample) are saved; --from-json FILE... renders one
table from several saved measurements without measuring anything (rows in the order given).

Needs: the models (/usr/bin/python3 bench/export_models.py), the programs hwopt_bench and
matmul_peak (cmake --build BUILD --target hwopt_bench matmul_peak), and onnxruntime-node
(npm install --ignore-scripts, in the repository root). See docs/benchmarks.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Textbook multiply-accumulates per sample (one image / one 128-token sequence).
GMAC = {"resnet50": 4.09, "mobilenetv2": 0.30, "bert_base": 11.2, "yolo_mish": 0.084}
DEFAULT_MODELS = ["resnet50", "mobilenetv2", "bert_base"]


def die(msg):
    sys.stderr.write(f"compare.py: error: {msg}\n")
    sys.exit(1)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def percentile(v, p):
    s = sorted(v)
    idx = p / 100 * (len(s) - 1)
    lo = int(idx)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (idx - lo)


def find_program(build_dir, name):
    candidates = [build_dir] if build_dir else [os.path.join(ROOT, d) for d in ("build", "build-bench")]
    for d in candidates:
        for p in (os.path.join(d, name), os.path.join(d, "bench", name)):
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
    return None


def run_json(cmd, timeout):
    """Runs cmd; returns (parsed JSON from its last stdout line, None) or (None, reason)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if p.returncode != 0:
        err = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        return None, f"exit {p.returncode}: {err}"
    lines = [l for l in p.stdout.strip().splitlines() if l.startswith("{")]
    if not lines:
        return None, "no JSON on stdout"
    return json.loads(lines[-1]), None


def measure_peak(args, matmul_peak):
    if args.peak_gflops:
        return {"gflops_best": args.peak_gflops, "source": "--peak-gflops"}
    if not matmul_peak:
        log("compare.py: warning: matmul_peak not built (needs libdnnl-dev); '% roof' is left out")
        return None
    cmd = [matmul_peak, "--size", str(args.peak_size), "--threads", str(args.threads), "--runs", "10"]
    log("peak: " + " ".join(cmd))
    peak, err = run_json(cmd, 300)
    if err:
        log(f"compare.py: warning: matmul_peak failed ({err}); '% roof' is left out")
        return None
    log(f"peak: {peak['gflops_best']:.1f} GFLOP/s best, {peak['gflops_median']:.1f} median ({peak.get('impl', '')})")
    return peak


def fmt_ms(x):
    if x is None:
        return "–"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="cpu", help="hwopt backend (default cpu; 'reference' is the oracle)")
    ap.add_argument("--optimize", action=argparse.BooleanOptionalAction, default=True,
                    help="hwopt graph optimization pipeline (default on; ORT always uses level 'all')")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated model names in --models-dir")
    ap.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
    ap.add_argument("--rounds", type=int, default=3, help="alternating [hwopt, ORT] rounds per model and batch")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per tool per round")
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs after the first (cold) run")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads for both (default 2)")
    ap.add_argument("--models-dir", default=os.path.join(HERE, "models"))
    ap.add_argument("--dim", action="append", default=[], metavar="NAME=SIZE",
                    help="a symbolic dimension other than the batch, for both tools (repeatable), e.g. an image size")
    ap.add_argument("--build-dir", default=None, help="where hwopt_bench and matmul_peak are (default: build/, then build-bench/)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one tool invocation may take before it is abandoned")
    ap.add_argument("--peak-size", type=int, default=2048, help="matrix size for matmul_peak")
    ap.add_argument("--peak-gflops", type=float, default=None, help="use this FP32 ceiling instead of measuring it")
    ap.add_argument("--json", default=None, help="also write all raw results to this file")
    ap.add_argument("--markdown", default=None, help="also write the table to this file")
    ap.add_argument("--from-json", nargs="+", metavar="FILE",
                    help="measure nothing: render the table from files written by --json (rows in order)")
    args = ap.parse_args()

    if args.from_json:
        records = []
        for f in args.from_json:
            try:
                with open(f) as fh:
                    records.append(json.load(fh))
            except (OSError, ValueError) as e:
                die(f"cannot read {f}: {e}")
        finish(args, None, records)
        return

    models = [m for m in args.models.split(",") if m]
    try:
        batches = [int(b) for b in args.batches.split(",") if b]
    except ValueError:
        die(f"--batches expects comma-separated integers, got '{args.batches}'")
    if args.rounds < 1 or args.runs < 1 or args.warmup < 0 or not batches or min(batches) < 1:
        die("--rounds and --runs must be >= 1, --warmup >= 0, batches >= 1")

    # Everything is checked before anything is timed.
    problems = []
    missing = [m for m in models if not os.path.isfile(os.path.join(args.models_dir, m + ".onnx"))]
    if missing:
        problems.append(f"models not found in {args.models_dir}: {', '.join(m + '.onnx' for m in missing)}\n"
                        f"  export them with: /usr/bin/python3 bench/export_models.py"
                        f" (after bash bench/setup.sh, which installs python3-torch)")
    hwopt_bench = find_program(args.build_dir, "hwopt_bench")
    if not hwopt_bench:
        where = args.build_dir or "build/ or build-bench/"
        problems.append(f"hwopt_bench not found in {where}\n  build it with: cmake -S . -B build -G Ninja && "
                        f"cmake --build build --target hwopt_bench matmul_peak   (or pass --build-dir)")
    matmul_peak = find_program(args.build_dir, "matmul_peak")
    node = shutil.which("node")
    if not node:
        problems.append("node (Node.js 20) not found on PATH")
    if not os.path.isfile(os.path.join(ROOT, "node_modules", "onnxruntime-node", "package.json")):
        problems.append(f"onnxruntime-node is not installed in {ROOT}/node_modules\n"
                        f"  install it with: (cd {ROOT} && npm install --ignore-scripts)   or: bash bench/setup.sh")
    if problems:
        die("\n".join(problems))

    log(f"hwopt: {hwopt_bench}")
    peak = measure_peak(args, matmul_peak)
    results = []
    started = time.time()
    for model in models:
        path = os.path.join(args.models_dir, model + ".onnx")
        for batch in batches:
            common = ["--batch", str(batch), "--threads", str(args.threads), "--warmup", str(args.warmup),
                      "--runs", str(args.runs)]
            for d in args.dim:
                common += ["--dim", d]
            cmds = {
                "hwopt": [hwopt_bench, path, "--backend", args.backend,
                          "--optimize" if args.optimize else "--no-optimize"] + common,
                "ort": [node, os.path.join(HERE, "ort_bench.js"), path] + common,
            }
            rounds, errors = [], {}
            for r in range(args.rounds):
                order = ["hwopt", "ort"] if r % 2 == 0 else ["ort", "hwopt"]
                entry = {}
                for tool in order:
                    if tool in errors:  # a tool that failed or timed out once is not retried
                        continue
                    t0 = time.time()
                    res, err = run_json(cmds[tool], args.timeout)
                    if err:
                        errors[tool] = err
                        log(f"{model} b{batch} round {r + 1}: {tool} failed: {err}")
                        continue
                    entry[tool] = res
                    log(f"{model} b{batch} round {r + 1}: {tool:5s} median {res['median_ms']:.2f} ms "
                        f"(cv {res['cv']:.2f}, {time.time() - t0:.0f} s)")
                rounds.append(entry)
            results.append({"model": model, "batch": batch, "rounds": rounds, "errors": errors,
                            "settings": {"backend": args.backend, "optimize": args.optimize, "threads": args.threads,
                                         "rounds": args.rounds, "runs": args.runs, "warmup": args.warmup},
                            "peak_gflops": peak["gflops_best"] if peak else None,
                            "commands": {k: " ".join(v) for k, v in cmds.items()}})
    log(f"total wall time {time.time() - started:.0f} s")
    finish(args, {"machine": machine_info(), "peak": peak, "results": results}, [])


def machine_info():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        with open(os.path.join(ROOT, "node_modules", "onnxruntime-node", "package.json")) as f:
            ort_version = json.load(f)["version"]
    except OSError:
        ort_version = "?"
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "cpu": cpu, "logical_cpus": os.cpu_count(),
            "arch": platform.machine(), "ort_version": ort_version}


def summarize(res):
    """Per-tool statistics over all rounds, the per-round ratios and the output agreement."""
    model, batch = res["model"], res["batch"]
    stats = {}
    for tool in ("hwopt", "ort"):
        done = [e[tool] for e in res["rounds"] if tool in e]
        samples = [s for d in done for s in d["samples_ms"]]
        if samples:
            med = percentile(samples, 50)
            stats[tool] = {"median": med, "p90": percentile(samples, 90), "tput": batch * 1000 / med,
                           "gflops": 2 * GMAC[model] * batch / (med / 1000) if model in GMAC else None,
                           "first": statistics.median(d["first_run_ms"] for d in done),
                           "load": statistics.median(d["load_ms"] for d in done),
                           "cv": max(d["cv"] for d in done)}
    # Both tools see bit-identical inputs: their outputs' mean |y| must agree (a wrong answer
    # fast is no result). The relative difference is reported; above 1e-3 it is flagged.
    agree = None
    pair = next(((e["hwopt"], e["ort"]) for e in res["rounds"] if "hwopt" in e and "ort" in e), None)
    if pair and pair[0].get("outputs") and pair[1].get("outputs"):
        diffs = []
        for name, o in pair[1]["outputs"].items():
            h = pair[0]["outputs"].get(name)
            if h is None or list(h["shape"]) != list(o["shape"]):
                diffs.append(float("inf"))
            else:
                diffs.append(abs(h["abs_mean"] - o["abs_mean"]) / max(abs(o["abs_mean"]), 1e-30))
        agree = max(diffs)
    ratios = [e["hwopt"]["median_ms"] / e["ort"]["median_ms"] for e in res["rounds"] if "hwopt" in e and "ort" in e]
    return {"stats": stats, "ratios": ratios, "outputs_rel_diff": agree}


def table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def render(runs):
    """Markdown for one or more measurement records ({"machine", "peak", "results"})."""
    rows, cold, notes, failures = [], [], [], []
    head = ["model", "batch", "hwopt median ms", "hwopt p90 ms", "ORT median ms", "ORT p90 ms",
            "hwopt/ORT (min–max)", "hwopt samples/s", "ORT samples/s", "hwopt GFLOP/s", "hwopt % roof",
            "ORT % roof", "outputs agree", "rounds × runs"]
    for record in runs:
        m = record["machine"]
        peak = record.get("peak")
        peak_text = (f"FP32 roof {peak['gflops_best']:.1f} GFLOP/s (oneDNN f32 matmul "
                     f"{peak.get('size', 2048)}³, fastest of {peak.get('runs', '?')} runs)" if peak and "size" in peak
                     else f"FP32 roof {peak['gflops_best']:.1f} GFLOP/s (given)" if peak else "FP32 roof not measured")
        settings = {json.dumps(r["settings"], sort_keys=True) for r in record["results"]}
        for st in map(json.loads, sorted(settings)):
            notes.append(f"- {m['date']}, {m['cpu']} ({m['logical_cpus']} logical CPUs), {st['threads']} threads, FP32; "
                         f"hwopt backend `{st['backend']}` {'with' if st['optimize'] else 'without'} graph optimization; "
                         f"ONNX Runtime {m['ort_version']} (onnxruntime-node, CPU EP, level 'all', inter-op 1, "
                         f"sequential); {st['rounds']} alternating rounds × {st['runs']} timed run(s) after "
                         f"{st['warmup']} warm-up run(s) and one cold run per tool; {peak_text}.")
        for res in record["results"]:
            summary = summarize(res)
            res["summary"] = summary
            stats, ratios, errors = summary["stats"], summary["ratios"], res["errors"]
            peak_gflops = res.get("peak_gflops")

            def cell(tool, key, f):
                if tool in stats and stats[tool][key] is not None:
                    return f(stats[tool][key])
                if key == "median" and tool in errors:
                    return "timed out" if "timed out" in errors[tool] else "failed"
                return "–"

            def roof(tool):
                return cell(tool, "gflops", lambda g: f"{100 * g / peak_gflops:.0f} %") if peak_gflops else "–"

            ratio = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})" if ratios else "–"
            d = summary["outputs_rel_diff"]
            agree = "–" if d is None else f"yes ({d:.0e})" if d <= 1e-3 else f"**NO** ({d:.1e})"
            st = res["settings"]
            for tool, err in errors.items():
                failures.append(f"- {res['model']} batch {res['batch']}, {'hwopt' if tool == 'hwopt' else 'ORT'}: {err}")
            rows.append([res["model"], str(res["batch"]), cell("hwopt", "median", fmt_ms), cell("hwopt", "p90", fmt_ms),
                         cell("ort", "median", fmt_ms), cell("ort", "p90", fmt_ms), ratio,
                         cell("hwopt", "tput", lambda x: f"{x:.1f}"), cell("ort", "tput", lambda x: f"{x:.1f}"),
                         cell("hwopt", "gflops", lambda x: f"{x:.1f}"), roof("hwopt"), roof("ort"), agree,
                         f"{st['rounds']} × {st['runs']}"])
            cold.append([res["model"], str(res["batch"]), cell("hwopt", "load", fmt_ms), cell("hwopt", "first", fmt_ms),
                         cell("ort", "load", fmt_ms), cell("ort", "first", fmt_ms),
                         cell("hwopt", "cv", lambda x: f"{x:.2f}"), cell("ort", "cv", lambda x: f"{x:.2f}")])
    md = ["\n".join(notes), "", table(head, rows), ""]
    if failures:
        md += ["Not measured:", "", "\n".join(failures), ""]
    md += [
          "Cold start (medians over rounds) and noise (largest per-round coefficient of variation):", "",
          table(["model", "batch", "hwopt load ms", "hwopt first run ms", "ORT load ms", "ORT first run ms",
                 "hwopt max cv", "ORT max cv"], cold)]
    return "\n".join(md)


def finish(args, record, earlier):
    print(render(earlier + ([record] if record else [])))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(render(earlier + ([record] if record else [])) + "\n")
    if args.json and record:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
