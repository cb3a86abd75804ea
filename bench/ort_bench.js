#!/usr/bin/env node
// ort_bench.js: times one model on ONNX Runtime (onnxruntime-node, CPU execution provider) and
// prints the statistics as one JSON object on stdout. The peer of bench/hwopt_bench.cpp: the same
// inputs (bit for bit, from the same seeded mulberry32 stream), the same protocol, the same JSON.
//
// Session: graphOptimizationLevel 'all', intraOpNumThreads --threads (default 2),
// interOpNumThreads 1, executionMode 'sequential'.
//
// Protocol: create the session (timed: load_ms); one first run (timed alone: first_run_ms);
// --warmup further untimed runs; then --runs timed runs, each timed on its own with
// process.hrtime.bigint(). The timed interval is `await session.run(feeds)`, which includes
// copying the outputs into JavaScript buffers (small next to the inference for these models).
//
// --profile FILE: ONNX Runtime's own profiler on (enableProfiling) and its Chrome-trace JSON moved
// to FILE (per-node "_kernel_time" events for every run, the first and warm-up runs included);
// bench/compare_modules.py reads it. Per-node timers make the runs slightly slower.
//
// Inputs: a dynamic leading dim is the batch (--batch); other dynamic dims come from --dim
// NAME=VALUE. Float inputs are uniform in [-1, 1); integer inputs whose name contains "mask" are
// all ones; other integer inputs are uniform in [0, --int-high) (token ids: 30522 = BERT's vocab).
//
// Usage: node bench/ort_bench.js MODEL [--batch N] [--threads T] [--warmup W] [--runs R]
//                                      [--seed S] [--int-high H] [--dim NAME=V ...] [--profile FILE]

'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

function die(msg, code = 1) {
  process.stderr.write(`ort_bench.js: error: ${msg}\n`);
  process.exit(code);
}

let ort;
try {
  ort = require(path.join(ROOT, 'node_modules', 'onnxruntime-node'));
} catch (e) {
  die(`cannot load onnxruntime-node from ${path.join(ROOT, 'node_modules')} (${e.message.split('\n')[0]}).\n` +
      `  Install it with: (cd ${ROOT} && npm install --ignore-scripts)   or: bash bench/setup.sh`);
}

// ---------------------------------------------------------------------------------------------
const USAGE = 'usage: node bench/ort_bench.js MODEL [--batch N] [--threads T] [--warmup W] [--runs R] ' +
              '[--seed S] [--int-high H] [--dim NAME=V ...] [--profile FILE]';
const args = { model: null, batch: 1, threads: 2, warmup: 3, runs: 10, seed: 1234, intHigh: 30522, dims: {}, profile: null };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) die(`${a} needs a value\n${USAGE}`, 2);
    return process.argv[++i];
  };
  const int = (v, min) => {
    if (!/^\d+$/.test(v) || Number(v) < min) die(`${a} expects an integer >= ${min}, got '${v}'`, 2);
    return Number(v);
  };
  if (a === '--batch') args.batch = int(next(), 1);
  else if (a === '--threads') args.threads = int(next(), 0);
  else if (a === '--warmup') args.warmup = int(next(), 0);
  else if (a === '--runs') args.runs = int(next(), 1);
  else if (a === '--seed') args.seed = int(next(), 0) >>> 0;
  else if (a === '--int-high') args.intHigh = int(next(), 1);
  else if (a === '--profile') args.profile = next();
  else if (a === '--dim') {
    const m = /^(.+)=(\d+)$/.exec(next());
    if (!m) die(`--dim expects NAME=INTEGER`, 2);
    args.dims[m[1]] = Number(m[2]);
  } else if (a === '-h' || a === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('-')) die(`unknown option ${a}\n${USAGE}`, 2);
  else if (args.model === null) args.model = a;
  else die(`unexpected argument ${a}\n${USAGE}`, 2);
}
if (args.model === null) die(`no model given\n${USAGE}`, 2);
if (!fs.existsSync(args.model)) {
  die(`model ${args.model} not found` +
      (args.model.includes(path.join('bench', 'models')) ? '; export it with: /usr/bin/python3 bench/export_models.py' : ''));
}

// mulberry32 (public-domain, Tommy Ettinger); hwopt_bench.cpp has the same generator.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeFeeds(session) {
  const uniform = mulberry32(args.seed);
  const feeds = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) die(`input '${meta.name}' is not a tensor`);
    const shape = meta.shape.map((d, i) => {
      if (typeof d === 'number' && d >= 0) return d;
      if (typeof d === 'string' && d in args.dims) return args.dims[d];
      if (i === 0) return args.batch;
      die(`input '${meta.name}' dim ${i} ('${d}') is dynamic: give it with --dim ${d}=N`);
    });
    const n = shape.reduce((x, y) => x * y, 1);
    const mask = meta.name.toLowerCase().includes('mask');
    let data;
    switch (meta.type) {
      case 'float32':
        data = new Float32Array(n);
        for (let i = 0; i < n; ++i) data[i] = uniform() * 2 - 1;
        break;
      case 'int64':
        data = new BigInt64Array(n);
        for (let i = 0; i < n; ++i) data[i] = mask ? 1n : BigInt(Math.floor(uniform() * args.intHigh));
        break;
      case 'int32':
        data = new Int32Array(n);
        for (let i = 0; i < n; ++i) data[i] = mask ? 1 : Math.floor(uniform() * args.intHigh);
        break;
      case 'bool':
        data = new Uint8Array(n);
        for (let i = 0; i < n; ++i) data[i] = mask ? 1 : (uniform() < 0.5 ? 1 : 0);
        break;
      default:
        die(`input '${meta.name}' has type ${meta.type}; the benchmark makes float32, int32, int64 and bool inputs only`);
    }
    feeds[meta.name] = new ort.Tensor(meta.type, data, shape);
  }
  return feeds;
}

function percentile(v, p) {
  const s = [...v].sort((x, y) => x - y);
  const idx = (p / 100) * (s.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (idx - lo);
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  let profileDir = null;
  if (args.profile) {
    profileDir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'ort_profile_'));
    options.enableProfiling = true;
    options.profileFilePrefix = path.join(profileDir, 'ort');
  }
  let t0 = nowMs();
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, options);
  } catch (e) {
    die(`loading ${args.model}: ${e.message}`);
  }
  const loadMs = nowMs() - t0;
  const feeds = makeFeeds(session);

  t0 = nowMs();
  const first = await session.run(feeds);
  const firstRunMs = nowMs() - t0;
  // A fingerprint of the outputs, so that compare.py can check both tools computed the same thing.
  const outputs = {};
  for (const [name, t] of Object.entries(first)) {
    let sum = 0, absSum = 0;
    for (const v of t.data) {
      const x = Number(v);
      sum += x;
      absSum += Math.abs(x);
    }
    outputs[name] = { shape: t.dims, sum, abs_mean: t.size ? absSum / t.size : 0 };
  }
  for (let i = 0; i < args.warmup; ++i) await session.run(feeds);

  const samples = [];
  for (let i = 0; i < args.runs; ++i) {
    t0 = nowMs();
    await session.run(feeds);
    samples.push(nowMs() - t0);
  }
  if (args.profile) session.endProfiling();
  await session.release();
  if (args.profile) {
    const written = fs.readdirSync(profileDir).filter((f) => f.endsWith('.json'));
    if (written.length !== 1) die(`expected one profile in ${profileDir}, found ${written.length}`);
    fs.copyFileSync(path.join(profileDir, written[0]), args.profile);
    fs.rmSync(profileDir, { recursive: true, force: true });
  }

  const mean = samples.reduce((x, y) => x + y, 0) / samples.length;
  const variance = samples.length > 1 ? samples.reduce((x, y) => x + (y - mean) ** 2, 0) / (samples.length - 1) : 0;
  const median = percentile(samples, 50);
  const out = {
    tool: 'ort',
    model: args.model,
    backend: `onnxruntime-node ${require(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json')).version} cpu`,
    threads: args.threads,
    optimize: true,
    batch: args.batch,
    load_ms: loadMs,
    first_run_ms: firstRunMs,
    warmup: args.warmup,
    runs: args.runs,
    median_ms: median,
    p90_ms: percentile(samples, 90),
    min_ms: Math.min(...samples),
    max_ms: Math.max(...samples),
    mean_ms: mean,
    cv: mean > 0 ? Math.sqrt(variance) / mean : 0,
    throughput_samples_per_s: median > 0 ? (args.batch * 1000) / median : 0,
    samples_ms: samples,
    outputs,
  };
  console.log(JSON.stringify(out));
}

main().catch((e) => die(e.stack || String(e)));
