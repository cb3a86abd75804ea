#include "quant/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/int_values.h"
#include "core/npy.h"

namespace hwopt::quant {

namespace {

namespace fs = std::filesystem;

// One file's samples for one input, with the sample axis first.
struct Chunk {
  std::string file;
  Tensor samples;
};

Status data_error(const std::string& file, const TensorInfo& input, const std::string& what) {
  return Status(StatusCode::invalid_argument, fmt::format("data file '{}' for input '{}': {}", file, input.name, what));
}

// The character mapping `hwopt run --output-dir` uses for file names.
std::string file_stem(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return s;
}

Shape sample_shape(const Tensor& samples) { return Shape(samples.shape().begin() + 1, samples.shape().end()); }

// Reads `file` as samples of `input`: converts float64 to float32 where the input wants it,
// checks the dtype and the static dims, and adds a leading sample axis to a single sample
// (when `allow_single` and the rank is one less than the input's).
Expected<Tensor> read_samples(const std::string& file, const TensorInfo& input, bool allow_single) {
  auto read = read_npy(file);
  if (!read.ok()) return read.status();
  Tensor t = std::move(read).value();
  if (input.dtype != DType::undefined && t.dtype() != input.dtype) {
    if (t.dtype() == DType::float64 && input.dtype == DType::float32) {
      auto converted = Tensor::create(DType::float32, t.shape());
      if (!converted.ok()) return data_error(file, input, converted.status().message());
      const double* src = t.data<double>();
      float* dst = converted->data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) dst[i] = static_cast<float>(src[i]);
      t = std::move(converted).value();
    } else {
      return data_error(file, input, fmt::format("dtype {}, but the model wants {}", dtype_name(t.dtype()),
                                                 dtype_name(input.dtype)));
    }
  }
  if (!input.has_shape) {
    if (t.rank() == 0) return data_error(file, input, "a scalar holds no sample axis");
    return t;
  }
  const int64_t rank = static_cast<int64_t>(input.shape.size());
  if (t.rank() == rank - 1 && allow_single) {
    Shape with_axis = t.shape();
    with_axis.insert(with_axis.begin(), 1);
    t = t.reshape(with_axis);
  } else if (t.rank() != rank) {
    return data_error(file, input,
                      allow_single
                          ? fmt::format("shape {}, but the input has rank {}: the file needs rank {} (samples along "
                                        "dim 0) or {} (one sample)",
                                        shape_str(t.shape()), rank, rank, rank - 1)
                          : fmt::format("shape {}, but the input has rank {}: the file needs rank {} (all samples "
                                        "along dim 0)",
                                        shape_str(t.shape()), rank, rank));
  }
  for (int64_t d = 1; d < rank; ++d) {
    if (input.shape[d] >= 0 && t.dim(d) != input.shape[d])
      return data_error(file, input,
                        fmt::format("sample shape {} does not match the model's {} (dim {} is {}, the model wants {})",
                                    shape_str(sample_shape(t)),
                                    shape_str(Shape(input.shape.begin() + 1, input.shape.end())), d, t.dim(d),
                                    input.shape[d]));
  }
  return t;
}

// Copies samples [start, start + count) of the concatenation of `chunks` into one tensor.
Expected<Tensor> gather_samples(const std::vector<Chunk>& chunks, int64_t start, int64_t count) {
  const Tensor& first = chunks.front().samples;
  Shape shape = first.shape();
  shape[0] = count;
  auto out = Tensor::create(first.dtype(), shape);
  if (!out.ok()) return out.status();
  const size_t row_bytes = static_cast<size_t>(shape_numel(sample_shape(first))) * dtype_size(first.dtype());
  auto* dst = static_cast<uint8_t*>(out->raw_data());
  int64_t skip = start, left = count;
  for (const Chunk& c : chunks) {
    if (left == 0) break;
    const int64_t n = c.samples.dim(0);
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const int64_t take = std::min(n - skip, left);
    const auto* src = static_cast<const uint8_t*>(c.samples.raw_data()) + static_cast<size_t>(skip) * row_bytes;
    if (take > 0) std::memcpy(dst, src, static_cast<size_t>(take) * row_bytes);
    dst += static_cast<size_t>(take) * row_bytes;
    left -= take;
    skip = 0;
  }
  return out;
}

}  // namespace

Expected<std::vector<Batch>> load_dataset(const std::string& path, const std::vector<TensorInfo>& model_inputs,
                                          int64_t batch_size, int64_t limit) {
  if (batch_size < 1)
    return Status(StatusCode::invalid_argument, fmt::format("batch size {} for data set '{}' is not positive", batch_size, path));
  if (limit < 0)
    return Status(StatusCode::invalid_argument, fmt::format("sample limit {} for data set '{}' is negative", limit, path));
  if (model_inputs.empty())
    return Status(StatusCode::invalid_argument, fmt::format("data set '{}': the model has no inputs to feed", path));
  for (const TensorInfo& input : model_inputs) {
    if (input.is_sequence)
      return Status(StatusCode::unsupported, fmt::format("data set '{}': input '{}' is a sequence, which data sets cannot feed", path, input.name));
    if (input.dtype == DType::string)
      return Status(StatusCode::unsupported, fmt::format("data set '{}': input '{}' is a string tensor, which .npy data cannot feed", path, input.name));
    if (input.has_shape && input.shape.empty())
      return Status(StatusCode::unsupported, fmt::format("data set '{}': input '{}' is a scalar: it has no sample axis to batch", path, input.name));
  }

  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  if (!is_dir && !fs::exists(path, ec))
    return Status(StatusCode::not_found, fmt::format("data set '{}' not found", path));

  // Per input (in model order): its chunks.
  std::vector<std::vector<Chunk>> chunks(model_inputs.size());
  if (!is_dir) {
    if (model_inputs.size() != 1)
      return Status(StatusCode::invalid_argument,
                    fmt::format("data set '{}' is one file, but the model has {} inputs: give a directory with one "
                                "<input name>.npy per input",
                                path, model_inputs.size()));
    auto t = read_samples(path, model_inputs[0], /*allow_single=*/true);
    if (!t.ok()) return t.status();
    chunks[0].push_back({path, std::move(t).value()});
  } else if (model_inputs.size() == 1) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.path().extension() == ".npy" && entry.is_regular_file(ec)) files.push_back(entry.path().string());
    }
    if (ec) return Status(StatusCode::io_error, fmt::format("cannot list data set directory '{}': {}", path, ec.message()));
    if (files.empty()) return Status(StatusCode::invalid_argument, fmt::format("data set directory '{}' holds no .npy files", path));
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      auto t = read_samples(file, model_inputs[0], /*allow_single=*/true);
      if (!t.ok()) return t.status();
      chunks[0].push_back({file, std::move(t).value()});
    }
  } else {
    for (size_t i = 0; i < model_inputs.size(); ++i) {
      const TensorInfo& input = model_inputs[i];
      fs::path file = fs::path(path) / (input.name + ".npy");
      if (input.name.find('/') != std::string::npos || !fs::is_regular_file(file, ec))
        file = fs::path(path) / (file_stem(input.name) + ".npy");
      if (!fs::is_regular_file(file, ec))
        return Status(StatusCode::not_found,
                      fmt::format("data set directory '{}' has no '{}' for input '{}' (a model with {} inputs "
                                  "reads one <input name>.npy per input)",
                                  path, file.filename().string(), input.name, model_inputs.size()));
      auto t = read_samples(file.string(), input, /*allow_single=*/false);
      if (!t.ok()) return t.status();
      chunks[i].push_back({file.string(), std::move(t).value()});
    }
  }

  // Every chunk of an input holds samples of one shape; every input has as many samples.
  int64_t total = -1;
  std::string total_file, total_input;
  for (size_t i = 0; i < model_inputs.size(); ++i) {
    const TensorInfo& input = model_inputs[i];
    int64_t samples = 0;
    const Chunk& first = chunks[i].front();
    for (const Chunk& c : chunks[i]) {
      if (sample_shape(c.samples) != sample_shape(first.samples))
        return data_error(c.file, input,
                          fmt::format("sample shape {} differs from {} in '{}': samples of one input must have one shape",
                                      shape_str(sample_shape(c.samples)), shape_str(sample_shape(first.samples)), first.file));
      samples += c.samples.dim(0);
    }
    if (total >= 0 && samples != total)
      return data_error(first.file, input,
                        fmt::format("{} samples, but '{}' holds {} for input '{}'", samples, total_file, total, total_input));
    total = samples;
    total_file = first.file;
    total_input = input.name;
  }
  const int64_t n = limit > 0 ? std::min(total, limit) : total;
  if (n == 0) return Status(StatusCode::invalid_argument, fmt::format("data set '{}' holds no samples", path));
  for (const TensorInfo& input : model_inputs) {
    if (!input.has_shape || input.shape[0] < 0) continue;
    if (batch_size != input.shape[0])
      return Status(StatusCode::invalid_argument,
                    fmt::format("data set '{}': input '{}' has a fixed batch of {}, so the batch size must be {}, not {}",
                                path, input.name, input.shape[0], input.shape[0], batch_size));
    if (n % batch_size != 0)
      return Status(StatusCode::invalid_argument,
                    fmt::format("data set '{}': {} samples do not split into whole batches of {}, which input '{}' "
                                "needs (limit the samples to a multiple)",
                                path, n, batch_size, input.name));
  }

  std::vector<Batch> batches;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t count = std::min(batch_size, n - start);
    Batch batch;
    for (size_t i = 0; i < model_inputs.size(); ++i) {
      auto t = gather_samples(chunks[i], start, count);
      if (!t.ok())
        return Status(t.status().code(), fmt::format("data set '{}', input '{}': {}", path, model_inputs[i].name, t.status().message()));
      batch.emplace(model_inputs[i].name, std::move(t).value());
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

int64_t batch_samples(const Batch& batch) {
  if (batch.empty() || batch.begin()->second.rank() == 0) return 0;
  return batch.begin()->second.dim(0);
}

Expected<std::vector<Tensor>> load_labels(const std::string& path, const std::vector<Batch>& batches) {
  auto read = read_npy(path);
  if (!read.ok()) return read.status();
  const Tensor& t = read.value();
  if (!dtype_is_integer(t.dtype()))
    return Status(StatusCode::invalid_argument,
                  fmt::format("labels '{}': dtype {}, but labels must be integers (class indices)", path, dtype_name(t.dtype())));
  if (!(t.rank() == 1 || (t.rank() == 2 && t.dim(1) == 1)))
    return Status(StatusCode::invalid_argument,
                  fmt::format("labels '{}': shape {}, but labels must have shape [N] or [N,1]", path, shape_str(t.shape())));
  int64_t needed = 0;
  for (const Batch& b : batches) needed += batch_samples(b);
  if (t.dim(0) < needed)
    return Status(StatusCode::invalid_argument,
                  fmt::format("labels '{}': {} labels for {} samples", path, t.dim(0), needed));
  std::vector<int64_t> values;
  if (auto exact = int64_values(t)) {
    values = std::move(*exact);
  } else {
    values.resize(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = t.element_as_double(i);
      // Only unsigned 64-bit labels can be this large; no class index is.
      if (!(std::fabs(v) < 9.0e15))
        return Status(StatusCode::invalid_argument, fmt::format("labels '{}': label {} at index {} is not a class index", path, v, i));
      values[i] = static_cast<int64_t>(v);
    }
  }
  std::vector<Tensor> out;
  int64_t start = 0;
  for (const Batch& b : batches) {
    const int64_t n = batch_samples(b);
    out.push_back(Tensor::from_vector<int64_t>({n}, std::vector<int64_t>(values.begin() + start, values.begin() + start + n)));
    start += n;
  }
  return out;
}

}  // namespace hwopt::quant
