// One latdiff run: set up the lattice, model and sampler from a Config, start or resume the
// chain, write observables, configurations and checkpoints, and print the summary; before it,
// the training stage of a trained diffusion score when its model file is missing.
#pragma once

#include <mpi.h>

#include "app/errors.hpp"
#include "io/config.hpp"

namespace latdiff {

// Collective over comm. Returns kExitOk or kExitInterrupted; throws InputError or BusyError
// (on all ranks alike) for bad input or locked files found before the first update, other
// exceptions for failures while running (app/error_exit.hpp ends the job either way).
int run_simulation(const Config& cfg, MPI_Comm comm);

// Collective over comm. The chain of cfg alone (run_simulation without its set-up and training
// stage); the same returns and errors.
int run_chain(const Config& cfg, MPI_Comm comm);

}  // namespace latdiff
