// Runs an exported model in onnxruntime-node, the runtime the app ships, and prints what it sees.
// Usage: node check_onnx.mjs <model.onnx> <input.bin: float32 little-endian NCHW> <N,C,H,W> [features]
// Prints JSON: input/output names, and each output's dims (and the logits' values; with `features`,
// the features' values too).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [modelPath, inputPath, dimsArg, extra] = process.argv.slice(2);
if (!modelPath || !inputPath || !dimsArg) {
  console.error('usage: node check_onnx.mjs <model.onnx> <input.bin> <N,C,H,W>');
  process.exit(2);
}
const dims = dimsArg.split(',').map(Number);
const bytes = readFileSync(inputPath);
// Copy into a fresh buffer: a Float32Array view needs 4-byte alignment, which a Buffer may lack.
const values = new Float32Array(new Uint8Array(bytes).buffer);
if (values.length !== dims.reduce((a, b) => a * b, 1)) {
  console.error(`input has ${values.length} values, dims ${dims} need ${dims.reduce((a, b) => a * b, 1)}`);
  process.exit(2);
}
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2 });
const results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', values, dims) });
const outputs = {};
for (const name of session.outputNames) {
  const t = results[name];
  outputs[name] = { dims: Array.from(t.dims), type: t.type };
}
if (results.logits) outputs.logits.data = Array.from(results.logits.data);
if (extra === 'features' && results.features) outputs.features.data = Array.from(results.features.data);
console.log(JSON.stringify({ inputNames: session.inputNames, outputNames: session.outputNames, outputs }));
