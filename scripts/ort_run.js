#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// ort_run.js — run an ONNX model with ONNX Runtime (onnxruntime-node, CPU execution provider) on
// inputs from NumPy .npy files and write every output as DIR/<output name>.npy, the way
// `hwopt run --input NAME=FILE.npy --output-dir DIR` does (names sanitised the same way: characters
// outside [A-Za-z0-9._-] become '_'). Used by tests/e2e/quant_qdq_test.cpp to run the QDQ models
// `hwopt quantize` writes, and for timing ONNX Runtime against hwopt (--repeat).
//
// Usage: node scripts/ort_run.js MODEL --input NAME=FILE.npy [...] [--output-dir DIR]
//          [--threads N] [--inter-threads N] [--opt-level disabled|basic|extended|all]
//          [--warmup N] [--repeat N]
// With --repeat N the model runs N times after --warmup runs; the wall time of each run is
// printed as one JSON line {"runs_ms": [...], "median_ms": ...} on stdout.
// Exit status: 0 on success, 1 on any error (message on stderr), 2 on bad arguments.

'use strict';

const fs = require('fs');
const path = require('path');

function usage(msg) {
  if (msg) console.error(`ort_run.js: ${msg}`);
  console.error('usage: node scripts/ort_run.js MODEL --input NAME=FILE.npy [...] [--output-dir DIR] [--threads N] ' +
                '[--inter-threads N] [--opt-level all] [--warmup N] [--repeat N]');
  process.exit(2);
}

const args = { model: null, inputs: [], outDir: null, threads: 1, interThreads: 1, optLevel: 'all', warmup: 0, repeat: 0 };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const next = () => (i + 1 < process.argv.length ? process.argv[++i] : usage(`${a} needs a value`));
  const int = (v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${a} needs an integer >= ${min}, got '${v}'`);
    return n;
  };
  if (a === '--input') {
    const v = next(), eq = v.indexOf('=');
    if (eq <= 0) usage(`--input needs NAME=FILE.npy, got '${v}'`);
    args.inputs.push([v.slice(0, eq), v.slice(eq + 1)]);
  } else if (a === '--output-dir') args.outDir = next();
  else if (a === '--threads') args.threads = int(next(), 0);
  else if (a === '--inter-threads') args.interThreads = int(next(), 0);
  else if (a === '--opt-level') {
    args.optLevel = next();
    if (!['disabled', 'basic', 'extended', 'all'].includes(args.optLevel)) usage(`unknown --opt-level ${args.optLevel}`);
  } else if (a === '--warmup') args.warmup = int(next(), 0);
  else if (a === '--repeat') args.repeat = int(next(), 0);
  else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (args.model === null) args.model = a;
  else usage(`unexpected argument ${a}`);
}
if (args.model === null) usage('MODEL is required');

// NumPy dtype descr -> [onnxruntime type, TypedArray, element size]
const DTYPES = {
  '<f4': ['float32', Float32Array, 4], '<f8': ['float64', Float64Array, 8], '<i8': ['int64', BigInt64Array, 8],
  '<i4': ['int32', Int32Array, 4], '<i2': ['int16', Int16Array, 2], '|i1': ['int8', Int8Array, 1],
  '|u1': ['uint8', Uint8Array, 1], '<u2': ['uint16', Uint16Array, 2], '<u4': ['uint32', Uint32Array, 4],
  '<u8': ['uint64', BigUint64Array, 8], '|b1': ['bool', Uint8Array, 1],
};
const DESCR_OF = Object.fromEntries(Object.entries(DTYPES).map(([d, [t]]) => [t, d]));

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.readUInt32BE(0) !== 0x934e554d || buf[4] !== 0x50 || buf[5] !== 0x59)
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header), fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: cannot parse the header ${header.trim()}`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran order is not supported`);
  const dt = DTYPES[descr[1].replace('=', '<')];
  if (!dt) throw new Error(`${file}: unsupported dtype ${descr[1]}`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length - offset !== count * dt[2]) throw new Error(`${file}: ${buf.length - offset} data bytes, shape needs ${count * dt[2]}`);
  const data = new dt[1](count);
  Buffer.from(data.buffer).set(buf.subarray(offset, offset + count * dt[2]));
  return { type: dt[0], dims, data: dt[0] === 'bool' ? Array.from(data, (v) => v !== 0) : data };
}

function npyBytes(tensor) {
  const descr = DESCR_OF[tensor.type];
  if (!descr) throw new Error(`no .npy mapping for output type ${tensor.type}`);
  const dims = tensor.dims;
  const shape = dims.length === 0 ? '()' : dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head, 0);
  head.writeUInt16LE(header.length, 8);
  const data = tensor.type === 'bool' ? Uint8Array.from(tensor.data, (v) => (v ? 1 : 0)) : tensor.data;
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const fileStem = (name) => {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s === '.' || s === '..' ? 'output' : s;
};

async function main() {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'], logSeverityLevel: 3, intraOpNumThreads: args.threads,
    interOpNumThreads: args.interThreads, executionMode: 'sequential', graphOptimizationLevel: args.optLevel,
  });
  const feeds = {};
  for (const [name, file] of args.inputs) {
    if (!session.inputNames.includes(name))
      throw new Error(`unknown input '${name}' (the model's inputs are: ${session.inputNames.join(', ')})`);
    const t = readNpy(file);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  for (const name of session.inputNames)
    if (!(name in feeds)) throw new Error(`missing input '${name}' (give --input ${name}=FILE.npy)`);
  for (let i = 0; i < args.warmup; ++i) await session.run(feeds);
  let results = null;
  const runs = [];
  for (let i = 0; i < Math.max(1, args.repeat); ++i) {
    const t0 = process.hrtime.bigint();
    results = await session.run(feeds);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (args.repeat > 0) {
    const sorted = [...runs].sort((a, b) => a - b), n = sorted.length;
    const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    console.log(JSON.stringify({ runs_ms: runs.map((v) => +v.toFixed(3)), median_ms: +median.toFixed(3) }));
  }
  if (args.outDir !== null) {
    fs.mkdirSync(args.outDir, { recursive: true });
    for (const name of session.outputNames) {
      const file = path.join(args.outDir, `${fileStem(name)}.npy`);
      const tmp = `${file}.tmp${process.pid}`;
      fs.writeFileSync(tmp, npyBytes(results[name]));
      fs.renameSync(tmp, file);
    }
  }
  await session.release();
}

main().catch((e) => {
  console.error(`ort_run.js: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
