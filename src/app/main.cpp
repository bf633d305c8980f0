// latdiff: Monte Carlo for lattice field theory. Usage: latdiff [DECK.ini] [--section.key=value
// ...]
#include <mpi.h>

#include <iostream>
#include <string>
#include <vector>

#include "app/cpu_features.hpp"
#include "app/error_exit.hpp"
#include "app/launcher_watchdog.hpp"
#include "app/simulation.hpp"
#include "app/version.hpp"
#include "io/deck.hpp"
#include "io/deck_file.hpp"
#include "io/mpi_io_setup.hpp"

namespace {

using namespace latdiff;

int finish(int code) {
  MPI_Finalize();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  refuse_missing_cpu_features();
  stop_when_launcher_dies();
  select_reliable_mpi_io();
  // Funneled: the launcher watchdog is a second thread, and only the main thread calls MPI.
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  prepare_error_exit();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);

  std::string deck_path;
  std::vector<std::string> overrides;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      if (rank == 0) std::cout << deck_help();
      return finish(kExitOk);
    }
    if (arg == "--version") {
      if (rank == 0) std::cout << "latdiff " << kLatdiffVersion << "\n";
      return finish(kExitOk);
    }
    if (arg == "--check") {
      check_only = true;
      continue;
    }
    // A bare word is the deck, unless it is the value of a preceding "--section.key".
    const bool is_value = !overrides.empty() && overrides.back().rfind("--", 0) == 0 &&
                          overrides.back().find('=') == std::string::npos;
    if (arg.rfind("--", 0) != 0 && deck_path.empty() && !is_value) {
      deck_path = arg;
      continue;
    }
    overrides.push_back(arg);
  }

  Config cfg;
  try {
    const std::string deck_text =
        deck_path.empty() ? "" : read_deck_file(deck_path, MPI_COMM_WORLD);
    cfg = parse_deck(deck_text, deck_path.empty() ? "command line" : deck_path, overrides);
  } catch (const DeckError& e) {
    exit_after_error(e.what(), kExitBadInput);
  }
  // Scans (jobs/scan) validate every point this way before any job exists.
  if (check_only) {
    if (rank == 0) std::cout << cfg.resolved_text;
    return finish(kExitOk);
  }

  try {
    return finish(run_simulation(cfg, MPI_COMM_WORLD));
  } catch (const InputError& e) {
    exit_after_error(e.what(), kExitBadInput);
  } catch (const BusyError& e) {
    exit_after_error(e.what(), kExitBusy);
  } catch (const std::exception& e) {
    exit_after_error(e.what(), kExitRuntimeError);
  }
}
