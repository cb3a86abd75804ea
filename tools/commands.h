// Each subcommand of the `hwopt` program lives in its own file and registers itself here.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace hwopt::cli {

/// Adds a subcommand to `app`; the returned function runs it and gives the exit code.
using CommandRunner = std::function<int()>;
CommandRunner add_run_command(CLI::App& app);
CommandRunner add_optimize_command(CLI::App& app);
CommandRunner add_inspect_command(CLI::App& app);
CommandRunner add_profile_command(CLI::App& app);
CommandRunner add_bench_command(CLI::App& app);
CommandRunner add_tune_command(CLI::App& app);
CommandRunner add_validate_command(CLI::App& app);
CommandRunner add_quantize_command(CLI::App& app);

}  // namespace hwopt::cli
