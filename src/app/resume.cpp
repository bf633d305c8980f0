#include "app/resume.hpp"

#include <map>
#include <sstream>

namespace latdiff {

namespace {

// "section.key" -> value of a resolved deck (one "key = value" per line under [section]).
std::map<std::string, std::string> deck_entries(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line, section;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[section + "." + trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

}  // namespace

bool may_differ_on_resume(const std::string& key) {
  return key == "run.updates" || key == "run.resume" || key == "lattice.procs" ||
         key == "output.checkpoint_every";
}

void check_resumable(const std::string& checkpoint_deck, const std::string& current_deck,
                     const std::string& checkpoint_path, const std::string& what) {
  const auto before = deck_entries(checkpoint_deck), now = deck_entries(current_deck);
  for (const auto& [key, value] : now) {
    if (may_differ_on_resume(key)) continue;
    const auto it = before.find(key);
    const std::string old = it == before.end() ? "(absent)" : it->second;
    if (old != value)
      throw ResumeError(key + ": " + what + " '" + checkpoint_path + "' was written with '" + old +
                        "' but the deck now says '" + value +
                        "'; restore the value, or start afresh with --run.resume=never");
  }
}

}  // namespace latdiff
