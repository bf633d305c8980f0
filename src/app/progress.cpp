#include "app/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace latdiff {

namespace {
const std::string kThermalization = "thermalization";
}  // namespace

ProgressReporter::ProgressReporter(ProgressSettings settings, std::int64_t first_update,
                                   bool enabled, std::ostream& out)
    : s_(std::move(settings)),
      first_(first_update),
      enabled_(enabled && s_.interval_s > 0),
      out_(out),
      interval_(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(s_.interval_s))),
      start_(Clock::now()),
      next_(start_ + interval_) {}

std::string ProgressReporter::duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const auto s = static_cast<long long>(seconds);
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
  } else {
    const auto m = static_cast<long long>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", m / 60, m % 60);
  }
  return buf;
}

void ProgressReporter::line(std::int64_t done) {
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done - first_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(s_.total - done) / rate : NAN;
  const std::string& phase =
      done <= s_.thermalize && s_.thermalize > 0 ? kThermalization : s_.phase;
  char text[400];
  int n = std::snprintf(text, sizeof text,
                        "%s: %s, %s %lld of %lld (%.1f %%), %.3g %ss/s, "
                        "elapsed %s, ETA %s",
                        s_.label.c_str(), phase.c_str(), s_.step.c_str(),
                        static_cast<long long>(done), static_cast<long long>(s_.total),
                        s_.total > 0 ? 100.0 * static_cast<double>(done) / s_.total : 100.0, rate,
                        s_.step.c_str(), duration(elapsed).c_str(), duration(eta).c_str());
  if (s_.acceptance && n > 0 && n < static_cast<int>(sizeof text))
    std::snprintf(text + n, sizeof text - n, ", acceptance %.3f",
                  since_line_ > 0 ? accepted_ / static_cast<double>(since_line_) : NAN);
  // On a terminal each line replaces the previous one: cursor up, erase the line. (Not a
  // carriage return: mpirun's output forwarding turns it into a newline.)
  if (s_.terminal && printed_) out_ << "\033[A\033[2K";
  out_ << text << '\n' << std::flush;
  printed_ = true;
  accepted_ = 0;
  since_line_ = 0;
  next_ = now + interval_;
}

void ProgressReporter::finish(std::int64_t done) {
  if (enabled_ && printed_ && since_line_ > 0) line(done);
}

namespace {

// Whether an MPI launcher started this process: Open MPI, MPICH/Hydra and Slurm's srun each set
// one of these in every rank. Read at static initialisation, before MPI_Init, which sets some
// of them in a singleton too.
bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"})
    if (std::getenv(name)) return true;
  return false;
}
const bool kLaunchedByMpi = launched_by_mpi();

}  // namespace

bool stdout_is_terminal() {
  if (kLaunchedByMpi) {
    const char* tty = std::getenv("LATDIFF_TTY");
    return tty && std::strcmp(tty, "1") == 0;
  }
  return isatty(STDOUT_FILENO) == 1;
}

}  // namespace latdiff
