// Runs an ONNX encoder on a float32 NCHW batch with onnxruntime-node (CPU)
// and writes the "features" output as little-endian float32.
//
//   node run.js MODEL.onnx INPUT.bin N C H W OUTPUT.bin
//
// Install once with: ONNXRUNTIME_NODE_INSTALL=skip npm ci (skips the CUDA
// download; the CPU runtime ships in the package). Used by export/onnx_test.go.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, n, c, h, w, output] = process.argv.slice(2);
  if (!output) {
    console.error('usage: node run.js MODEL.onnx INPUT.bin N C H W OUTPUT.bin');
    process.exit(2);
  }
  const buf = fs.readFileSync(input);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const dims = [n, c, h, w].map(Number);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const res = await session.run({ input: new ort.Tensor('float32', x, dims) });
  const f = res.features;
  fs.writeFileSync(output, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength));
  console.log(JSON.stringify({ dims: f.dims, ort: require('onnxruntime-node/package.json').version }));
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
