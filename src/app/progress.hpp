// Progress lines of a running chain (README "Programs"), printed by rank 0 alone every
// output.progress_interval seconds: the output file, the phase (thermalization or measuring),
// update i of n, the rate and elapsed time of this run, the ETA and the acceptance since the
// previous line. On a terminal the line updates in place (ANSI cursor up and erase line);
// elsewhere (a batch log) each is a plain line that tail -f and grep can read.
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
  std::int64_t thermalize = 0;  // updates of the thermalization phase
  std::int64_t total = 0;       // thermalize + updates
};

class ProgressReporter {
 public:
  // `out` must outlive the reporter; enabled = false (ranks > 0) makes every call a no-op.
  ProgressReporter(ProgressSettings settings, std::int64_t first_update, bool enabled,
                   std::ostream& out);

  // After update number done - 1 (done updates in all), with its acceptance.
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
