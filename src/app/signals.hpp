// Stop signals: SIGTERM and SIGUSR1 (batch systems send these before the wall-time limit),
// SIGINT (Ctrl-C) and SIGHUP. The handler only sets a flag; the chain checks it between
// updates, checkpoints and exits with kExitInterrupted. Under Open MPI only SIGUSR1 reaches the
// ranks through mpirun (jobs/mpirun-checkpointing turns the others into it).
#pragma once

#include <mpi.h>

namespace latdiff {

void install_stop_signal_handlers();

// Collective: true on every rank if any rank has received a stop signal.
bool stop_requested(MPI_Comm comm);

}  // namespace latdiff
