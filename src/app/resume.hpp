// Whether a checkpoint may continue under the current deck: every key that defines the chain
// must be equal; only keys that do not change the chain may differ.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "io/checkpoint.hpp"
#include "io/config.hpp"

namespace latdiff {

struct ResumeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Keys allowed to differ between the checkpoint's deck and the current one: the run length
// (to extend a chain), the process grid (chains do not depend on it), checkpoint and progress
// cadence, and the [training] keys (the trained model is identified by its checksum instead).
bool may_differ_on_resume(const std::string& key);

// The first key that defines the chain whose value differs between two resolved decks.
struct DeckDifference {
  std::string key, before, now;  // a key missing from `before` has its default, or "(absent)"
};
std::optional<DeckDifference> chain_difference(const std::string& before_deck,
                                               const std::string& current_deck);

// Throws ResumeError naming the first differing key, with both values and the path of the
// file (`what`: "checkpoint", or "output file" for the deck stored in the output file).
void check_resumable(const std::string& checkpoint_deck, const std::string& current_deck,
                     const std::string& checkpoint_path, const std::string& what = "checkpoint");

// Throws ResumeError when the checkpoint at `checkpoint_path` was written with another chain
// format (io/checkpoint.hpp) than this binary's: its chain would not continue bit for bit.
void check_chain_format(std::int64_t format, const std::string& checkpoint_path);

// Collective. Verifies that the first state.counts rows of every group of the output file are
// the chain's rows: counts consistent with state.updates_done and the deck's cadences
// (run.measure_every, output.save_every, output.correlators, output.block_measurements,
// output.coarse), and every kept /observables, /configurations, /correlators and /coarse step
// number the one the chain writes there. Throws ResumeError naming the file, dataset and row
// otherwise (e.g. rows of a second writer, or of a run that lost its launcher).
void verify_kept_rows(const Config& cfg, const ChainState& state);

}  // namespace latdiff
