#!/usr/bin/python3
"""Check an ONNX file with Debian's python3-onnx: onnx.checker (full check)
and the IR/opset versions. Used by export/onnx_test.go.

  /usr/bin/python3 tools/onnxcheck/check.py MODEL.onnx
"""
import sys

import onnx

m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
ops = {o.domain: o.version for o in m.opset_import}
print(f"onnx {onnx.__version__}: checker OK, ir_version {m.ir_version}, opset {ops.get('', ops)}, "
      f"{len(m.graph.node)} nodes, {len(m.graph.initializer)} initializers")
