// SIGTERM / SIGUSR1 handling: batch systems send these before the wall-time limit. The
// handler only sets a flag; the chain checks it between updates.
#pragma once

#include <mpi.h>

namespace latdiff {

void install_stop_signal_handlers();

// Collective: true on every rank if any rank has received a stop signal.
bool stop_requested(MPI_Comm comm);

}  // namespace latdiff
