#!/usr/bin/python3
"""make_dynamic_quant.py: writes a model in ONNX Runtime's dynamic quantization format, as
onnxruntime.quantization.quantize_dynamic does with its defaults (weight_type QInt8, per tensor,
symmetric weights), for benchmarks and for checking hwopt's import of that format
(passes/decompose_integer.cpp). Needs only python3-onnx and numpy (no onnxruntime Python package
on this machine: it is not in Debian).

Every MatMul whose second input is a constant rank-2 float initializer becomes
    (x_q, x_scale, x_zp) = DynamicQuantizeLinear(x)      (one per distinct x, shared)
    y = Mul(Cast<FLOAT>(MatMulInteger(x_q, W_q, x_zp, W_zp)), Mul(x_scale, W_scale))
with W_scale = max|W| / 127, W_q = round(W / W_scale) as int8 and W_zp = 0 (int8).

Usage: /usr/bin/python3 bench/make_dynamic_quant.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model = onnx.load(sys.argv[1])
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes, new_inits, dql_of = [], [], {}
    quantized = 0
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == "MatMul" and len(n.input) == 2 else None
        if w is None or len(w.dims) != 2 or w.data_type != TensorProto.FLOAT:
            nodes.append(n)
            continue
        x, y, base = n.input[0], n.output[0], (n.name or n.output[0]).replace("/", "_")
        if x not in dql_of:
            q = x.replace("/", "_") + "_dql"
            dql_of[x] = (q + "_q", q + "_scale", q + "_zp")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(dql_of[x]), name=q))
        xq, xs, xz = dql_of[x]
        wf = numpy_helper.to_array(w).astype(np.float32)
        scale = np.float32(max(float(np.abs(wf).max()), 1e-12) / 127.0)
        wq = np.clip(np.round(wf / scale), -127, 127).astype(np.int8)
        new_inits += [numpy_helper.from_array(wq, base + "_W_q"),
                      numpy_helper.from_array(np.array(scale, np.float32), base + "_W_scale"),
                      numpy_helper.from_array(np.array(0, np.int8), base + "_W_zp")]
        nodes += [
            helper.make_node("MatMulInteger", [xq, base + "_W_q", xz, base + "_W_zp"], [base + "_int32"],
                             name=base + "_MatMulInteger"),
            helper.make_node("Cast", [base + "_int32"], [base + "_float"], to=TensorProto.FLOAT, name=base + "_Cast"),
            helper.make_node("Mul", [xs, base + "_W_scale"], [base + "_scales"], name=base + "_scales_Mul"),
            helper.make_node("Mul", [base + "_float", base + "_scales"], [y], name=base + "_Mul"),
        ]
        quantized += 1
    used = {i for n in nodes for i in n.input}
    del g.node[:]
    g.node.extend(nodes)
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    if any(o.domain in ("", "ai.onnx") and o.version < 11 for o in model.opset_import):
        sys.exit("the model's opset is below 11 (DynamicQuantizeLinear needs 11)")
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"{sys.argv[2]}: {quantized} MatMul(s) quantized dynamically, {len(dql_of)} DynamicQuantizeLinear")


if __name__ == "__main__":
    main()
