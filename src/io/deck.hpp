// Input decks: INI files with [sections], every key overridable on the command line as
// --section.key=value or --section.key value. Parsing yields a validated, fully resolved Config
// whose resolved_text is itself a runnable deck (stored in output files, re-parses identically).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "io/config.hpp"

namespace latdiff {

// One-line message that starts with the offending key (or the deck name for syntax errors).
struct DeckError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses deck text plus command-line overrides (later sources win: defaults < deck < overrides).
// `deck_name` (e.g. the file path) is only used in messages. Local: no MPI, no file access;
// whether lattice.procs matches the number of ranks is left to the caller.
// Throws DeckError.
Config parse_deck(const std::string& deck_text, const std::string& deck_name,
                  const std::vector<std::string>& overrides);

// The full text of `latdiff --help`: usage, then every key by section with default and meaning.
std::string deck_help();

}  // namespace latdiff
