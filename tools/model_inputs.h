// Building a model's input tensors for the CLI: from .npy files, or random with a seed.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hwopt/session.h"

namespace hwopt::cli {

/// Parses NAME=VALUE pairs ("--input x=img.npy", "--dim batch=4").
Expected<std::map<std::string, std::string>> parse_pairs(const std::vector<std::string>& pairs, const char* flag);

/// Inputs for `session`: each from its .npy file in `files` if given, else random of the
/// declared dtype and shape (symbolic dims from `dims`, else 1). Floats uniform in [0, 1),
/// integers in [0, 10), bools random.
Expected<std::map<std::string, Tensor>> make_inputs(const Session& session,
                                                    const std::map<std::string, std::string>& files,
                                                    const std::map<std::string, std::string>& dims, uint64_t seed);

/// The batch of a session's inputs: the name of their symbolic first dimension ("" when static)
/// and, when static, its size.
struct BatchDim {
  std::string name;
  int64_t fixed = 0;
};
BatchDim batch_dim_of(const Session& session);

/// Random inputs of any batch size for `session` (which must outlive the factory): the symbolic
/// first dimension set to the batch, other symbolic dims from `dims`; a static first dimension
/// accepts only its own size.
std::function<Expected<std::map<std::string, Tensor>>(int64_t batch, uint64_t seed)> random_input_factory(
    const Session& session, const std::map<std::string, std::string>& dims);

/// "float32[1,5] min=-0.1 max=0.9 mean=0.2 [0.1, 0.2, ...]"
std::string summarize(const Tensor& t);

}  // namespace hwopt::cli
