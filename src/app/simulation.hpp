// One latdiff run: set up the lattice, model and sampler from a Config, start or resume the
// chain, write observables, configurations and checkpoints, and print the summary.
#pragma once

#include <mpi.h>

#include <stdexcept>

#include "io/config.hpp"

namespace latdiff {

// Process exit codes of latdiff.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInterrupted = 3;  // stop signal: checkpoint written, rerun to continue

// Bad input found before any output was written: the lattice does not fit the ranks, an
// unreadable start file, a checkpoint that is corrupt or does not match the deck.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Collective over comm. Returns kExitOk or kExitInterrupted; throws InputError (on all ranks
// alike) for bad input, other exceptions for failures while running.
int run_simulation(const Config& cfg, MPI_Comm comm);

}  // namespace latdiff
