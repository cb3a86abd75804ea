// Ctrl-C for long-running commands (hwopt run --repeat, bench, tune): the first SIGINT (or
// SIGTERM) only sets a flag that the command polls between runs, so it can stop cleanly, keep
// what it finished and write nothing half-done; a second one ends the process at once.
#pragma once

namespace hwopt {

/// Installs the SIGINT/SIGTERM handler (idempotent). Call from the command, not the library.
void install_interrupt_handler();
/// True once SIGINT or SIGTERM arrived after install_interrupt_handler().
bool interrupted();
/// Forgets an earlier interrupt (tests; a command that asks the user whether to go on).
void clear_interrupt();
/// The signal that interrupted (SIGINT or SIGTERM), 0 if none; 128 + it is the exit status
/// shells expect from a command stopped by that signal.
int interrupt_signal();

}  // namespace hwopt
