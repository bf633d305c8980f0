#include "app/signals.hpp"

#include <csignal>
#include <initializer_list>

namespace latdiff {

namespace {
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int) {
  g_stop_signal = 1;
}
}  // namespace

void install_stop_signal_handlers() {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) std::signal(sig, on_stop_signal);
}

bool stop_requested(MPI_Comm comm) {
  int local = g_stop_signal ? 1 : 0, any = 0;
  MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, comm);
  return any != 0;
}

}  // namespace latdiff
