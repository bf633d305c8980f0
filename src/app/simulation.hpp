// One latdiff run: set up the lattice, model and sampler from a Config, start or resume the
// chain, write observables, configurations and checkpoints, and print the summary; before it,
// the training stage of a trained diffusion score when its model file is missing.
#pragma once

#include <mpi.h>

#include <optional>
#include <string>
#include <vector>

#include "app/errors.hpp"
#include "io/config.hpp"
#include "io/run_lock.hpp"

namespace latdiff {

// Collective over comm. Returns kExitOk or kExitInterrupted; throws InputError or BusyError
// (on all ranks alike) for bad input or locked files found before the first update, other
// exceptions for failures while running (app/error_exit.hpp ends the job either way).
int run_simulation(const Config& cfg, MPI_Comm comm);

// Collective over comm. Locks the files of `targets` (io/run_lock.hpp); throws BusyError when
// another run holds one, InputError when one cannot be locked.
RunLock lock_files(const std::vector<RunLock::Target>& targets, MPI_Comm comm);

// Collective over comm. A lock on a file the run reads (training data), so that no run writes
// it meanwhile: BusyError when another run holds it; nothing when it cannot be locked (a
// read-only directory), since reading needs no lock file.
std::optional<RunLock> lock_input_file(const std::string& key, const std::string& path,
                                       MPI_Comm comm);

// Collective over comm. lock_files of output.file and output.checkpoint of cfg.
RunLock lock_chain_files(const Config& cfg, MPI_Comm comm);

// Collective over comm. The chain of cfg alone (run_simulation without its set-up and training
// stage) with its files locked by `lock`; the same returns and errors.
int run_chain(const Config& cfg, MPI_Comm comm, RunLock lock);

}  // namespace latdiff
