#include "app/launcher_watchdog.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "app/errors.hpp"

namespace latdiff {

namespace {

// Environment variables that MPI launchers set in the processes they start.
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

void stop_when_launcher_dies() {
  if (!started_by_launcher()) return;
  const pid_t launcher = getppid();
  std::thread([launcher] {
    // When the parent dies the kernel re-parents the rank, so its parent pid changes.
    while (getppid() == launcher) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string line = "latdiff: error (pid " + std::to_string(getpid()) +
                             "): the MPI launcher (pid " + std::to_string(launcher) +
                             ") is gone; stopping this rank\n";
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, line.data(), line.size());
    _exit(kExitRuntimeError);
  }).detach();
}

}  // namespace latdiff
