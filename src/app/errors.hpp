// Exit codes of latdiff (README "Programs") and the errors found before the first update.
#pragma once

#include <stdexcept>

namespace latdiff {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInterrupted = 3;  // stop signal: checkpoint written, rerun to continue
inline constexpr int kExitBusy = 4;  // output or checkpoint locked by another run: retry later

// Bad input found before any output was written: the lattice does not fit the ranks or the
// memory, an unreadable start file, a checkpoint that is corrupt or does not match the deck, an
// output file that a fresh chain may not replace (kExitBadInput).
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The output file or checkpoint is in use by another run (kExitBusy).
struct BusyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace latdiff
