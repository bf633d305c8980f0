// Crash points for tests of what a crash leaves behind. With LATDIFF_FAULT=<point>[:<n>] in
// the environment, every rank that reaches the named point of the I/O sequence for the n-th
// time (default 1) ends at once with _exit(kFaultExitCode): no clean-up, no flush, as if the
// node had failed there. Without the variable a point costs one comparison.
//
// Points: after_create (output file created), after_truncate (resume: rows after the
// checkpoint discarded), after_append (rows or a configuration appended), checkpoint_write
// (checkpoint data written to <checkpoint>.tmp, file not yet closed), before_rename (.tmp
// closed and verified, not yet synced and renamed), after_rename (checkpoint replaced).
#pragma once

namespace latdiff {

inline constexpr int kFaultExitCode = 99;

// Not collective. Crashes here if LATDIFF_FAULT names this point and this is its n-th visit.
void fault_point(const char* name);

}  // namespace latdiff
