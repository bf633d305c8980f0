// Whether a checkpoint may continue under the current deck: every key that defines the chain
// must be equal; only keys that do not change the chain may differ.
#pragma once

#include <stdexcept>
#include <string>

namespace latdiff {

struct ResumeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Keys allowed to differ between the checkpoint's deck and the current one: the run length
// (to extend a chain), the process grid (chains do not depend on it) and checkpoint cadence.
bool may_differ_on_resume(const std::string& key);

// Throws ResumeError naming the first differing key, with both values and the path of the
// file (`what`: "checkpoint", or "output file" for the deck stored in the output file).
void check_resumable(const std::string& checkpoint_deck, const std::string& current_deck,
                     const std::string& checkpoint_path, const std::string& what = "checkpoint");

}  // namespace latdiff
