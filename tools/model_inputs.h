// Building a model's input tensors for the CLI: from .npy files, or random with a seed.
#pragma once

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

/// "float32[1,5] min=-0.1 max=0.9 mean=0.2 [0.1, 0.2, ...]"
std::string summarize(const Tensor& t);

}  // namespace hwopt::cli
