// latdiff: Monte Carlo for lattice field theory. Usage: latdiff [DECK.ini] [--section.key=value
// ...]
#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "app/simulation.hpp"
#include "io/deck.hpp"
#include "io/mpi_io_setup.hpp"
#include "version.hpp"

namespace {

using namespace latdiff;

// Collective: rank 0 reads the deck and broadcasts it, so every rank parses the same text.
// Returns false (on all ranks) if the file cannot be read.
bool read_deck(const std::string& path, std::string& text, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  long long size = -1;
  if (rank == 0) {
    std::ifstream in(path);
    // A directory opens as a stream that reads as empty: it would pass as an empty deck.
    std::error_code ec;
    if (in && !std::filesystem::is_directory(path, ec)) {
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
      size = in.bad() ? -1 : static_cast<long long>(text.size());
    }
  }
  MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, comm);
  if (size < 0) return false;
  text.resize(static_cast<std::size_t>(size));
  MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, comm);
  return true;
}

int finish(int code) {
  MPI_Finalize();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  select_reliable_mpi_io();
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  auto error = [&](const std::string& message, int code) {
    if (rank == 0) std::cerr << "latdiff: error: " << message << std::endl;
    return finish(code);
  };

  std::string deck_path;
  std::vector<std::string> overrides;
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
    // A bare word is the deck, unless it is the value of a preceding "--section.key".
    const bool is_value = !overrides.empty() && overrides.back().rfind("--", 0) == 0 &&
                          overrides.back().find('=') == std::string::npos;
    if (arg.rfind("--", 0) != 0 && deck_path.empty() && !is_value) {
      deck_path = arg;
      continue;
    }
    overrides.push_back(arg);
  }

  std::string deck_text;
  if (!deck_path.empty() && !read_deck(deck_path, deck_text, MPI_COMM_WORLD))
    return error("deck '" + deck_path + "': cannot be read (missing or not a readable file)",
                 kExitBadInput);

  Config cfg;
  try {
    cfg = parse_deck(deck_text, deck_path.empty() ? "command line" : deck_path, overrides);
  } catch (const DeckError& e) {
    return error(e.what(), kExitBadInput);
  }

  try {
    return finish(run_simulation(cfg, MPI_COMM_WORLD));
  } catch (const InputError& e) {
    return error(e.what(), kExitBadInput);
  } catch (const std::exception& e) {
    // A failure on some ranks only: the others may wait in a collective, so abort the job.
    std::cerr << "latdiff: error (rank " << rank << "): " << e.what() << std::endl;
    MPI_Abort(MPI_COMM_WORLD, kExitRuntimeError);
  }
  return kExitRuntimeError;
}
