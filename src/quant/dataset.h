// Data sets for calibration and accuracy validation: .npy files turned into batches of model
// inputs, and label files split to match.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hwopt/session.h"

namespace hwopt::quant {

/// One batch of model inputs, by input name.
using Batch = std::map<std::string, Tensor>;

/// Loads a data set for a model with inputs `model_inputs` and splits it into batches of
/// `batch_size` samples (the last batch may be smaller). `limit` > 0 keeps only the first
/// `limit` samples; 0 keeps all.
///
/// `path` is one of:
/// - a `.npy` file, for a model with one input: a batch of samples when its rank equals the
///   input's declared rank (dim 0 is the sample axis), or one sample when its rank is one less;
/// - a directory, for a model with one input: every `*.npy` file in it, in byte-wise order of
///   the file names (zero-pad numbers: `img10.npy` sorts before `img2.npy`), each a sample or a
///   batch by the rule above, concatenated;
/// - a directory, for a model with several inputs: one file `<input name>.npy` per input (or,
///   for names with characters other than [A-Za-z0-9._-], the name with each of those replaced
///   by '_', as `hwopt run --output-dir` names files), each holding all samples along dim 0 and
///   all with the same number of samples. Other files in the directory are ignored.
///
/// Each file's dtype must be the input's declared dtype; float64 is converted when the input is
/// float32. Its dims after the sample axis must equal the input's static dims (symbolic dims
/// accept any size, but every sample of one input must have the same shape). An input whose
/// first dim is static (a fixed batch) needs `batch_size` equal to it and a sample count that
/// splits into whole batches. An input the model declares without a shape takes each file as
/// a batch. Errors (invalid_argument, not_found, unsupported) name the file and the input.
Expected<std::vector<Batch>> load_dataset(const std::string& path, const std::vector<TensorInfo>& model_inputs,
                                          int64_t batch_size, int64_t limit = 0);

/// The number of samples in `batch`: dim 0 of its inputs (0 for an empty batch or scalars).
int64_t batch_samples(const Batch& batch);

/// Reads labels for a data set from `path`: a .npy file of integers (int64, int32, int16,
/// int8, uint8, uint16, ...), shape [N] or [N, 1], and returns them as int64 tensors split
/// like `batches` (one [n] tensor per batch, n = batch_samples). Labels beyond the data set's
/// samples are ignored (so `--limit` applies); fewer labels than samples is invalid_argument.
Expected<std::vector<Tensor>> load_labels(const std::string& path, const std::vector<Batch>& batches);

}  // namespace hwopt::quant
