// The `hwopt` command-line program.
#include <iostream>
#include <map>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"hwopt: make a trained ONNX model run as fast as its hardware allows.\n"
               "Subcommands load a model, run it, profile, benchmark, quantize, validate and tune it."};
  app.set_version_flag("--version", std::string("hwopt 0.1.0"));
  app.require_subcommand(1);
  std::map<CLI::App*, hwopt::cli::CommandRunner> runners;
  auto add = [&](hwopt::cli::CommandRunner (*fn)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    auto runner = fn(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) runners[subs.back()] = runner;
  };
  add(hwopt::cli::add_run_command);
  add(hwopt::cli::add_optimize_command);
  add(hwopt::cli::add_inspect_command);
  add(hwopt::cli::add_profile_command);
  add(hwopt::cli::add_bench_command);
  add(hwopt::cli::add_validate_command);
  add(hwopt::cli::add_quantize_command);
  add(hwopt::cli::add_tune_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, runner] : runners)
    if (sub->parsed()) return runner();
  return 2;
}
