#include "app/error_exit.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <thread>

namespace latdiff {

namespace {
MPI_Comm g_error_comm = MPI_COMM_NULL;

// The reduction completes only when every rank has posted it, i.e. every rank has failed;
// then `code` becomes the largest code of all ranks.
bool all_ranks_failed(double seconds, int& code) {
  if (g_error_comm == MPI_COMM_NULL) return false;
  static int local = 0;  // buffers of a pending request must outlive this frame on a timeout
  local = code;
  MPI_Request request;
  MPI_Iallreduce(&local, &code, 1, MPI_INT, MPI_MAX, g_error_comm, &request);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
}  // namespace

void prepare_error_exit() {
  MPI_Comm_dup(MPI_COMM_WORLD, &g_error_comm);
}

void exit_after_error(const std::string& message, int code, double agree_seconds) {
  // A job being aborted gets SIGTERM from the launcher: from here on it must end this rank,
  // not ask for a checkpoint (app/signals.hpp).
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) std::signal(sig, SIG_DFL);
  static int agreed = 0;
  agreed = code;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::cout << std::flush;
  if (size == 1 || all_ranks_failed(agree_seconds, agreed)) {
    if (rank == 0) std::cerr << "latdiff: error: " << message << std::endl;
    std::fflush(nullptr);
    // Rank 0 leaves first: mpirun may end the job when the first rank exits, and rank 0's
    // line must have reached it by then.
    MPI_Barrier(g_error_comm);
    if (rank != 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    _exit(agreed);
  }
  // When several ranks failed, the lowest one normally prints and aborts before the others
  // are done waiting, so the reason is printed once.
  std::this_thread::sleep_for(std::chrono::milliseconds(500) * std::min(rank, 8));
  std::cerr << "latdiff: error (rank " << rank << "): " << message << std::endl;
  MPI_Abort(MPI_COMM_WORLD, code);
  _exit(code);
}

}  // namespace latdiff
