// Package checkpoint saves and loads model weights and training state in
// the safetensors format (https://github.com/huggingface/safetensors): a
// JSON header and raw little-endian tensors, so loading executes no code.
//
// # Layout
//
// Model tensors are stored under their plain torchvision names
// ("conv1.weight", "layer1.0.bn1.num_batches_tracked"): float tensors as
// F32, batch-norm counters as I64 scalars, exactly as torch's state_dict,
// so a model file loads into torchvision with load_state_dict and a
// torchvision export (tools/export_torchvision.py) loads here. A training
// checkpoint adds, under reserved prefixes that never occur in module names,
//
//	optim/<name>    optimizer buffers (optim.Optimizer.State)
//	train/step      the schedule position (I64)
//	rng/<name>      random-generator states (U8 bytes)
//	loader/<name>   data-loader positions (I64)
//	extra/<name>    any other float tensors (queues, memory banks)
//
// and the "__metadata__" map holds "format" ("contrastive"),
// "format_version" and the run's "config" (JSON), plus caller metadata.
//
// # Errors
//
// Files are written atomically (temporary file, sync, rename). Loading a
// file whose model tensors do not match the destination — missing,
// unexpected, wrong shape or wrong dtype — returns a *MismatchError that
// lists every offending name and matches ErrMismatch with errors.Is. A
// truncated or corrupt file gives an error naming the path.
package checkpoint
