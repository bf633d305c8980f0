// Progress lines of a running chain or training stage (README "Programs"), printed by rank 0
// alone every output.progress_interval seconds: the output (or model) file, the phase
// (thermalization, measuring or training), step i of n, the rate and elapsed time of this run,
// the ETA and, for a chain, the acceptance since the previous line. On a terminal the line updates
// in place (ANSI cursor up and erase line); elsewhere (a batch log) each is a plain line that tail
// -f and grep can read.
//
// Nothing here is collective and nothing calls MPI: each update costs rank 0 one clock read.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace latdiff {

struct ProgressSettings {
  double interval_s = 10;       // seconds between lines; 0: no lines
  bool terminal = false;        // update one line in place
  std::string label;            // the output file
  std::int64_t thermalize = 0;  // steps of the thermalization phase
  std::int64_t total = 0;       // thermalize + the rest
  // What a step is, the phase after thermalization, and whether lines show the acceptance:
  // a chain's updates, or the training stage's configurations ("training", no acceptance).
  std::string step = "update", phase = "measuring";
  bool acceptance = true;
};

class ProgressReporter {
 public:
  // `out` must outlive the reporter; enabled = false (ranks > 0) makes every call a no-op.
  ProgressReporter(ProgressSettings settings, std::int64_t first_update, bool enabled,
                   std::ostream& out);

  // After step number done - 1 (done steps in all), with its acceptance (ignored when the
  // settings show none).
  void update(std::int64_t done, double acceptance) {
    if (!enabled_) return;
    accepted_ += acceptance;
    ++since_line_;
    if (Clock::now() >= next_) line(done);
  }

  // The run's last line, when any was printed and updates followed it.
  void finish(std::int64_t done);

  // "3.2 s", "4 min 05 s", "2 h 07 min": a duration a person reads at a glance.
  static std::string duration(double seconds);

 private:
  using Clock = std::chrono::steady_clock;
  void line(std::int64_t done);

  ProgressSettings s_;
  std::int64_t first_;
  bool enabled_;
  std::ostream& out_;
  Clock::duration interval_;
  Clock::time_point start_, next_;
  double accepted_ = 0;
  std::int64_t since_line_ = 0;
  bool printed_ = false;
};

// Whether rank 0's standard output is a terminal a person watches: isatty(1), except under an
// MPI launcher, whose ranks write to a pseudo-terminal even when the job's output goes to a
// file; there LATDIFF_TTY=1 (set by jobs/run-local on a terminal) says so.
bool stdout_is_terminal();

}  // namespace latdiff
