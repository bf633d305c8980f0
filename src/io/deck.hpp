// Input decks: INI files with [sections], every key overridable on the command line as
// --section.key=value or --section.key value. Parsing yields a validated, fully resolved Config
// whose resolved_text is itself a runnable deck (stored in output files, re-parses identically).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "io/config.hpp"

namespace latdiff {

// Largest value of every update count and interval (run.thermalize, run.updates,
// run.measure_every, output.save_every, output.checkpoint_every, output.block_measurements) and
// of run.thermalize + run.updates: far beyond any run, with headroom so that update numbers
// and their sums stay within int64.
inline constexpr std::int64_t kMaxUpdates = std::int64_t{1} << 62;

// `text` with every byte that would not show as itself on a terminal (control characters,
// C1 controls, invalid UTF-8) written as a \xNN escape, so that input echoed in a message stays
// one visible line. Valid UTF-8 other than controls is kept; applying it twice changes nothing.
std::string printable(std::string_view text);

// One-line message that starts with the offending key (or the deck name for errors of the deck
// as a whole). Unprintable bytes of the message are escaped (see printable).
struct DeckError : std::runtime_error {
  explicit DeckError(const std::string& message) : std::runtime_error(printable(message)) {}
};

// Parses deck text plus command-line overrides (later sources win: defaults < deck < overrides).
// `deck_name` (e.g. the file path) is only used in messages. The deck text must be UTF-8 without
// NUL bytes, with LF or CRLF line endings; a leading UTF-8 byte-order mark is skipped. Local: no
// MPI, no file access (io/deck_file.hpp reads files); whether lattice.procs matches the number
// of ranks is left to the caller. Throws DeckError.
Config parse_deck(const std::string& deck_text, const std::string& deck_name,
                  const std::vector<std::string>& overrides);

// The resolved deck text of c (every key with its value; the Config::resolved_text that
// parse_deck sets), for a Config derived from a parsed one (e.g. a warm-up chain's).
std::string resolved_deck(const Config& c);

// `path` with a trailing ".h5" replaced by `suffix` (appended when there is none), the rule of
// every derived file name (output.checkpoint, diffusion.model_file, the warm-up output).
std::string replace_h5_suffix(const std::string& path, const std::string& suffix);

// The default value of key "section.name" as it appears in a resolved deck, or nothing for an
// unknown or required key. A resolved deck of an older version lacks the keys added since;
// they are taken to have their defaults, which keep the older behaviour.
std::optional<std::string> default_value(const std::string& key);

// The full text of `latdiff --help`: usage, then every key by section with default and meaning.
std::string deck_help();

}  // namespace latdiff
