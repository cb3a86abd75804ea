#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// ort_reference.js — produce ONNX Runtime reference inputs/outputs for hwopt's end-to-end tests.
//
// Run through scripts/make_ort_reference.sh (which installs onnxruntime-node@1.30.0 first).
// For every real model in models/real/ this script
//   1. builds deterministic inputs (seeded PRNG below; values in the model's natural range),
//   2. runs ONNX Runtime (CPU execution provider, 1 intra-op thread, sequential execution),
//   3. writes every input and every output as a NumPy .npy file (format 1.0, little-endian,
//      C order) to tests/e2e/data/<model_stem>/input_<name>.npy / output_<name>.npy, and
//   4. writes tests/e2e/data/<model_stem>/manifest.json mapping each file to the original tensor
//      name, dtype and shape (plus notes, the model's SHA-256 and the ORT version).
// Tensor names are sanitised for file names: every character outside [A-Za-z0-9_-] becomes '_'
// (e.g. "input:0" -> "input_0", "softmax_0.tmp_0" -> "softmax_0_tmp_0").
//
// PRNG: mulberry32 (32-bit state, public-domain algorithm by Tommy Ettinger), seeded per model with
// BASE_SEED xor fnv1a32(model_stem), so adding or reordering models never changes another model's
// data. uniform() returns k / 2^32 in [0, 1); normal() is Box–Muller on two uniforms.
//
// Synthetic images (all image models except the Fashion-MNIST CNN, which uses the first 8 real
// test images of Debian's dataset-fashion-mnist): a smooth background gradient, a few random solid
// rectangles and ellipses, dark "stroke" bars (text-like, for the OCR models) and ±6/255 uniform
// noise, clamped to [0, 1] and quantised to k/255 like a decoded 8-bit image; the model's own
// normalisation (per models/real/README.md) is then applied. This gives edges and flat regions, so
// activations look more like real images than white noise does.
//
// Usage: node scripts/ort_reference.js [--models-dir DIR] [--out-dir DIR] [--fmnist-dir DIR]
//                                     [--only stem[,stem...]]

'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const ort = require('onnxruntime-node');

const ROOT = path.resolve(__dirname, '..');
const BASE_SEED = 0x48574f50; // "HWOP"

// ---------------------------------------------------------------------------------------------
// Command line
const args = { modelsDir: path.join(ROOT, 'models', 'real'), outDir: path.join(ROOT, 'tests', 'e2e', 'data'),
               fmnistDir: '/usr/share/datasets/fashion-mnist', only: null };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const next = () => { if (i + 1 >= process.argv.length) throw new Error(`${a} needs a value`); return process.argv[++i]; };
  if (a === '--models-dir') args.modelsDir = path.resolve(next());
  else if (a === '--out-dir') args.outDir = path.resolve(next());
  else if (a === '--fmnist-dir') args.fmnistDir = path.resolve(next());
  else if (a === '--only') args.only = next().split(',');
  else if (a === '-h' || a === '--help') {
    console.log('usage: node scripts/ort_reference.js [--models-dir DIR] [--out-dir DIR] [--fmnist-dir DIR] [--only stem,...]');
    process.exit(0);
  } else throw new Error(`unknown argument ${a}`);
}

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG
function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; ++i) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}
class Rng {
  constructor(seed) { this.s = seed >>> 0; this.spare = null; }
  u32() { // mulberry32
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  uniform(lo = 0, hi = 1) { return lo + (hi - lo) * (this.u32() / 4294967296); }
  int(lo, hi) { return lo + Math.floor(this.uniform() * (hi - lo + 1)); } // inclusive
  normal() {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u1 = 0; while (u1 === 0) u1 = this.uniform();
    const u2 = this.uniform(), r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}
const rngFor = (stem) => new Rng((BASE_SEED ^ fnv1a32(stem)) >>> 0);

// ---------------------------------------------------------------------------------------------
// Synthetic 8-bit-like RGB image, returned as Float32Array HWC (RGB) with values k/255.
function syntheticImageHWC(rng, H, W, { strokes = 0 } = {}) {
  const img = new Float32Array(H * W * 3);
  const c0 = [rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.9)];
  const gx = [rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)];
  const gy = [rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)];
  for (let y = 0; y < H; ++y)
    for (let x = 0; x < W; ++x)
      for (let c = 0; c < 3; ++c)
        img[(y * W + x) * 3 + c] = c0[c] + gx[c] * (x / W - 0.5) + gy[c] * (y / H - 0.5);
  const paint = (inside, color) => {
    for (let y = 0; y < H; ++y)
      for (let x = 0; x < W; ++x)
        if (inside(x, y)) for (let c = 0; c < 3; ++c) img[(y * W + x) * 3 + c] = color[c];
  };
  const randColor = () => [rng.uniform(), rng.uniform(), rng.uniform()];
  const nShapes = 2 + rng.int(0, 3);
  for (let i = 0; i < nShapes; ++i) {
    const cx = rng.uniform(0, W), cy = rng.uniform(0, H);
    const rx = rng.uniform(0.08, 0.3) * W, ry = rng.uniform(0.08, 0.3) * H;
    const color = randColor();
    if (rng.uniform() < 0.5) paint((x, y) => Math.abs(x - cx) <= rx && Math.abs(y - cy) <= ry, color);
    else paint((x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1, color);
  }
  // Dark text-like strokes: short vertical/horizontal bars arranged along a line.
  if (strokes > 0) {
    const baseY = rng.uniform(0.3, 0.7) * H, h = Math.max(4, Math.round(rng.uniform(0.25, 0.45) * H));
    const ink = [rng.uniform(0, 0.15), rng.uniform(0, 0.15), rng.uniform(0, 0.15)];
    let x = rng.uniform(0.05, 0.15) * W;
    for (let i = 0; i < strokes && x < 0.95 * W; ++i) {
      const w = Math.max(2, Math.round(rng.uniform(0.01, 0.025) * W));
      const top = baseY - h / 2 + rng.int(0, Math.max(1, h >> 2)), hh = h - rng.int(0, Math.max(1, h >> 2));
      const x0 = x;
      paint((px, py) => px >= x0 && px < x0 + w && py >= top && py < top + hh, ink);
      if (rng.uniform() < 0.4) { // crossbar
        const yb = top + rng.uniform(0, hh), len = rng.uniform(2, 4) * w;
        paint((px, py) => px >= x0 && px < x0 + len && py >= yb && py < yb + Math.max(2, w * 0.7), ink);
      }
      x += w + rng.uniform(0.02, 0.06) * W;
    }
  }
  for (let i = 0; i < img.length; ++i) {
    const v = Math.min(1, Math.max(0, img[i] + rng.uniform(-6 / 255, 6 / 255)));
    img[i] = Math.round(v * 255) / 255;
  }
  return img;
}

// HWC [0,1] -> NCHW (N=1) with per-channel (v - mean[c]) / std[c].
function toNCHW(hwc, H, W, mean, std) {
  const out = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; ++c)
    for (let y = 0; y < H; ++y)
      for (let x = 0; x < W; ++x)
        out[(c * H + y) * W + x] = (hwc[(y * W + x) * 3 + c] - mean[c]) / std[c];
  return out;
}
function normalizeHWC(hwc, mean, std) {
  const out = new Float32Array(hwc.length);
  for (let i = 0; i < hwc.length; ++i) out[i] = (hwc[i] - mean[i % 3]) / std[i % 3];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fashion-MNIST (IDX, gzip)
const FMNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker',
                        'Bag', 'Ankle boot'];
function readIdx(file) {
  const buf = zlib.gunzipSync(fs.readFileSync(file));
  const magic = buf.readUInt32BE(0), ndim = magic & 0xff;
  if ((magic >>> 8) !== 0x08) throw new Error(`${file}: expected unsigned-byte IDX, magic 0x${magic.toString(16)}`);
  const dims = []; for (let i = 0; i < ndim; ++i) dims.push(buf.readUInt32BE(4 + 4 * i));
  return { dims, data: buf.subarray(4 + 4 * ndim) };
}

// ---------------------------------------------------------------------------------------------
// NumPy .npy writer (format version 1.0)
const NPY_DESCR = { float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2', int8: '|i1',
                    uint8: '|u1', uint16: '<u2', uint32: '<u4', uint64: '<u8', bool: '|b1', float16: '<f2' };
function npyBytes(type, dims, data) {
  const descr = NPY_DESCR[type];
  if (!descr) throw new Error(`no .npy mapping for tensor type ${type}`);
  const shape = dims.length === 0 ? '()' : dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pre = 10; // magic(6) + version(2) + header_len(2)
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - pre - header.length - 1) + '\n';
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`data length ${data.length} != prod(shape) ${count}`);
  const itemsize = parseInt(descr.slice(2), 10);
  const body = Buffer.alloc(count * itemsize);
  for (let i = 0; i < count; ++i) { // explicit little-endian, whatever the host
    const o = i * itemsize, v = data[i];
    switch (type) {
      case 'float32': body.writeFloatLE(v, o); break;
      case 'float64': body.writeDoubleLE(v, o); break;
      case 'int64': body.writeBigInt64LE(BigInt(v), o); break;
      case 'uint64': body.writeBigUInt64LE(BigInt(v), o); break;
      case 'int32': body.writeInt32LE(v, o); break;
      case 'uint32': body.writeUInt32LE(v, o); break;
      case 'int16': body.writeInt16LE(v, o); break;
      case 'uint16': case 'float16': body.writeUInt16LE(v, o); break; // float16: raw bits
      case 'int8': body.writeInt8(v, o); break;
      case 'uint8': body.writeUInt8(v, o); break;
      case 'bool': body.writeUInt8(v ? 1 : 0, o); break;
      default: throw new Error(`unhandled type ${type}`);
    }
  }
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head, 0);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

// JSON.stringify with 2-space indent, but arrays of scalars kept on one line (shapes, labels).
function prettyJson(v, indent = '') {
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const inner = indent + '  ';
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${prettyJson(v[k], inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}

const sanitize = (name) => name.replace(/[^A-Za-z0-9_-]/g, '_');
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
function stats(t) {
  if (t.type !== 'float32' && t.type !== 'float64') return undefined;
  let mn = Infinity, mx = -Infinity, sum = 0, nonfinite = 0;
  for (const v of t.data) {
    if (!Number.isFinite(v)) { ++nonfinite; continue; }
    if (v < mn) mn = v; if (v > mx) mx = v; sum += v;
  }
  const n = t.data.length - nonfinite;
  return { min: mn, max: mx, mean: n ? sum / n : null, nonfinite };
}

// ---------------------------------------------------------------------------------------------
// Per-model input builders. Each returns { feeds: {name: ort.Tensor}, notes: [...], extra: {...},
// run?: async (session) => results } (run defaults to one session.run(feeds)).
const IMAGENET_MEAN = [0.485, 0.456, 0.406], IMAGENET_STD = [0.229, 0.224, 0.225];

const MODELS = [
  {
    stem: 'fmnist_cnn',
    build(rng) {
      const N = 8;
      const imgs = readIdx(path.join(args.fmnistDir, 't10k-images-idx3-ubyte.gz'));
      const labs = readIdx(path.join(args.fmnistDir, 't10k-labels-idx1-ubyte.gz'));
      if (imgs.dims[1] !== 28 || imgs.dims[2] !== 28) throw new Error('unexpected Fashion-MNIST image size');
      const x = new Float32Array(N * 28 * 28);
      for (let i = 0; i < x.length; ++i) x[i] = imgs.data[i] / 255;
      const labels = Array.from(labs.data.subarray(0, N));
      return {
        feeds: { input: new ort.Tensor('float32', x, [N, 1, 28, 28]) },
        notes: ['Real data: the first 8 images of the Fashion-MNIST test set (Debian dataset-fashion-mnist, ' +
                't10k-images-idx3-ubyte.gz), pixels / 255, shape [8,1,28,28].'],
        extra: { labels, label_names: labels.map((l) => FMNIST_CLASSES[l]), classes: FMNIST_CLASSES },
        post(results, extra) {
          const lg = results.logits, top1 = [];
          for (let n = 0; n < N; ++n) {
            let best = 0;
            for (let k = 1; k < 10; ++k) if (lg.data[n * 10 + k] > lg.data[n * 10 + best]) best = k;
            top1.push(best);
          }
          extra.ort_top1 = top1;
          extra.ort_top1_names = top1.map((l) => FMNIST_CLASSES[l]);
          extra.ort_top1_correct = top1.filter((p, i) => p === extra.labels[i]).length;
        },
      };
    },
  },
  {
    stem: 'nsfwjs_mobilenet_v2',
    build(rng) {
      const H = 224, W = 224, img = syntheticImageHWC(rng, H, W);
      return {
        feeds: { input: new ort.Tensor('float32', toNCHW(img, H, W, [0, 0, 0], [1, 1, 1]), [1, 3, H, W]) },
        notes: ['Synthetic 224x224 RGB image (k/255 values), NCHW, RGB / 255 (no mean/std). Output: softmax over ' +
                '[Drawing, Hentai, Neutral, Porn, Sexy].'],
        extra: { classes: ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] },
      };
    },
  },
  {
    stem: 'blazeface_front_128',
    build(rng) {
      const H = 128, W = 128, img = syntheticImageHWC(rng, H, W);
      return {
        feeds: { 'input:0': new ort.Tensor('float32', normalizeHWC(img, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), [1, H, W, 3]) },
        notes: ['NHWC input [1,128,128,3] (tf2onnx export): synthetic RGB image, RGB / 127.5 - 1, i.e. in [-1, 1].',
                'Outputs Identity:0 / Identity_1:0 are raw score logits for the 512 (16x16) and 384 (8x8 x6) anchors; ' +
                'Identity_2:0 / Identity_3:0 the 16 box/keypoint regressors per anchor.'],
      };
    },
  },
  {
    stem: 'ppocrv4_det',
    build(rng) {
      const H = 96, W = 160, img = syntheticImageHWC(rng, H, W, { strokes: 14 });
      return {
        feeds: { x: new ort.Tensor('float32', toNCHW(img, H, W, IMAGENET_MEAN, IMAGENET_STD), [1, 3, H, W]) },
        notes: ['Synthetic 96x160 RGB image with dark text-like strokes; H and W are multiples of 32. ' +
                'Normalisation (x/255 - mean) / std with ImageNet mean [0.485,0.456,0.406], std [0.229,0.224,0.225].'],
      };
    },
  },
  {
    stem: 'ppocrv4_rec',
    build(rng) {
      const H = 48, W = 160, img = syntheticImageHWC(rng, H, W, { strokes: 12 });
      return {
        feeds: { x: new ort.Tensor('float32', toNCHW(img, H, W, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), [1, 3, H, W]) },
        notes: ['Synthetic 48x160 RGB word-crop-like image; RGB / 255 then (x - 0.5) / 0.5. ' +
                'Output [1, W/8, 6625] CTC probabilities (index 0 = blank, then models/real/ppocr_keys_v1.txt, then space).'],
      };
    },
  },
  {
    stem: 'ppocr_mobile_v2_cls',
    build(rng) {
      const H = 48, W = 192, img = syntheticImageHWC(rng, H, W, { strokes: 12 });
      return {
        feeds: { x: new ort.Tensor('float32', toNCHW(img, H, W, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), [1, 3, H, W]) },
        notes: ['Synthetic 48x192 RGB text-line-like image; RGB / 255 then (x - 0.5) / 0.5 (PaddleOCR ClsResizeImg ' +
                'preprocessing). Output [1,2]: probabilities of 0 / 180 degrees.'],
        extra: { classes: ['0', '180'] },
      };
    },
  },
  {
    stem: 'silero_vad_v5',
    build(rng) {
      // 1024 samples of a continuous 16 kHz "voiced" signal: 180 Hz fundamental with harmonics,
      // a slow amplitude envelope and Gaussian noise (sigma 0.01). Chunk 0 (samples 0..511) runs with
      // the all-zero initial state; the stored case is chunk 1 (samples 512..1023) with the state
      // returned by chunk 0, so the recurrent state input is non-trivial.
      const SR = 16000, CH = 512, total = 2 * CH, f0 = 180;
      const sig = new Float32Array(total);
      for (let i = 0; i < total; ++i) {
        const t = i / SR, env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
        let v = 0;
        for (let h = 1; h <= 5; ++h) v += Math.sin(2 * Math.PI * f0 * h * t + h) / h;
        sig[i] = Math.max(-1, Math.min(1, 0.25 * env * v + 0.01 * rng.normal()));
      }
      const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SR)]), []);
      const chunk = (k) => new ort.Tensor('float32', sig.slice(k * CH, (k + 1) * CH), [1, CH]);
      const state0 = new ort.Tensor('float32', new Float32Array(2 * 1 * 128), [2, 1, 128]);
      const r = {
        notes: ['Inputs: input [1,512] float audio in [-1,1] at 16 kHz (512-sample chunk), state [2,1,128] float, ' +
                'sr int64 scalar (shape []) = 16000.',
                'The stored case is the SECOND chunk of a 1024-sample synthetic voiced signal (180 Hz + 4 harmonics, ' +
                '3 Hz envelope, N(0, 0.01^2) noise); its state input is stateN from running the first chunk with an ' +
                'all-zero state. First-chunk output recorded in extra.chunk0_output.',
                'The graph branches on sr with If subgraphs (16000 vs 8000 Hz).'],
        extra: {},
      };
      r.feeds = { input: chunk(1), state: state0, sr }; // replaced in run()
      r.run = async (session) => {
        const r0 = await session.run({ input: chunk(0), state: state0, sr });
        r.extra.chunk0_output = Array.from(r0.output.data);
        r.feeds = { input: chunk(1), state: r0.stateN, sr };
        return session.run(r.feeds);
      };
      return r;
    },
  },
];

// ---------------------------------------------------------------------------------------------
async function main() {
  fs.mkdirSync(args.outDir, { recursive: true });
  const summary = [];
  for (const m of MODELS) {
    if (args.only && !args.only.includes(m.stem)) continue;
    const modelPath = path.join(args.modelsDir, `${m.stem}.onnx`);
    const t0 = Date.now();
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'], logSeverityLevel: 3, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const spec = m.build(rngFor(m.stem));
    const results = spec.run ? await spec.run(session) : await session.run(spec.feeds);
    if (spec.post) spec.post(results, spec.extra);

    const dir = path.join(args.outDir, m.stem);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const used = new Set();
    const entry = (kind, name, t) => {
      let file = `${kind}_${sanitize(name)}.npy`;
      for (let k = 2; used.has(file); ++k) file = `${kind}_${sanitize(name)}_${k}.npy`;
      used.add(file);
      const bytes = npyBytes(t.type, t.dims, t.data);
      fs.writeFileSync(path.join(dir, file), bytes);
      const e = { file, name, dtype: t.type, shape: Array.from(t.dims) };
      const s = stats(t); if (s) e.stats = s;
      if (t.data.length <= 16) e.values = Array.from(t.data, (x) => (typeof x === 'bigint' ? Number(x) : x));
      return e;
    };
    // Feed order follows the model's declared input order; outputs follow session.outputNames.
    const inputs = session.inputNames.map((n) => entry('input', n, spec.feeds[n]));
    const outputs = session.outputNames.map((n) => entry('output', n, results[n]));
    const manifest = {
      model: `models/real/${m.stem}.onnx`,
      model_sha256: sha256(modelPath),
      generator: 'scripts/ort_reference.js (scripts/make_ort_reference.sh)',
      onnxruntime: `onnxruntime-node ${ort.env.versions.node} (CPU EP, 1 thread, graphOptimizationLevel all)`,
      seed: `mulberry32(0x${BASE_SEED.toString(16)} ^ fnv1a32("${m.stem}")) = 0x${((BASE_SEED ^ fnv1a32(m.stem)) >>> 0).toString(16)}`,
      npy: 'NumPy format 1.0, little-endian, C order',
      notes: spec.notes,
      inputs, outputs,
    };
    if (spec.extra && Object.keys(spec.extra).length) manifest.extra = spec.extra;
    fs.writeFileSync(path.join(dir, 'manifest.json'), prettyJson(manifest) + '\n');
    const line = `${m.stem}: ${inputs.map((e) => `${e.name}${JSON.stringify(e.shape)}:${e.dtype}`).join(' ')} -> ` +
                 `${outputs.map((e) => `${e.name}${JSON.stringify(e.shape)}:${e.dtype}`).join(' ')} (${Date.now() - t0} ms)`;
    console.log(line);
    summary.push(line);
    await session.release();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
