// How latdiff ends after an error, on any number of ranks, without hanging and with the
// reason printed once. An error that every rank meets (bad input, a file all ranks fail to
// write) is agreed on: rank 0 prints one line and every rank exits with the code. An error
// met by some ranks only (a full disk seen by one writer, memory exhausted on one node) cannot
// be agreed on, because the other ranks wait in a collective call that will never complete:
// the failing rank prints its line, with its rank, and aborts the job (the lowest failing rank
// goes first, so the line is normally printed once). Either way the process
// ends with _exit, not MPI_Finalize: HDF5 cleans up open files in MPI_Finalize, and after a
// failed write or close that clean-up can crash or hang.
#pragma once

#include <mpi.h>

#include <string>

namespace latdiff {

// Collective over MPI_COMM_WORLD, right after MPI_Init: creates the communicator on which
// failing ranks agree, so that the agreement cannot match a collective call in progress.
void prepare_error_exit();

// Called by a rank that has caught an error; does not return. Waits up to `agree_seconds`
// for every rank to report an error too (then rank 0 prints "latdiff: error: <message>" and
// all exit with `code`); otherwise prints "latdiff: error (rank r): <message>" and calls
// MPI_Abort with `code`.
[[noreturn]] void exit_after_error(const std::string& message, int code,
                                   double agree_seconds = 5.0);

}  // namespace latdiff
