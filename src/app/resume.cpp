#include "app/resume.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "io/deck.hpp"
#include "io/output_file.hpp"

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
  // [training] and [rbm_training] only say how a missing model file is trained; the model
  // itself is part of the chain's identity by its checksum (attribute model_checksum).
  return key == "run.updates" || key == "run.resume" || key == "lattice.procs" ||
         key == "output.checkpoint_every" || key == "output.overwrite" ||
         key == "output.progress_interval" || key.starts_with("training.") ||
         key.starts_with("rbm_training.");
}

std::optional<DeckDifference> chain_difference(const std::string& before_deck,
                                               const std::string& current_deck) {
  const auto before = deck_entries(before_deck), now = deck_entries(current_deck);
  for (const auto& [key, value] : now) {
    if (may_differ_on_resume(key)) continue;
    // A key added since `before` was written counts with its default.
    const auto it = before.find(key);
    const std::string old =
        it != before.end() ? it->second : default_value(key).value_or("(absent)");
    if (old != value) return DeckDifference{key, old, value};
  }
  return std::nullopt;
}

void check_resumable(const std::string& checkpoint_deck, const std::string& current_deck,
                     const std::string& checkpoint_path, const std::string& what) {
  if (const auto d = chain_difference(checkpoint_deck, current_deck))
    throw ResumeError(d->key + ": " + what + " '" + checkpoint_path + "' was written with '" +
                      d->before + "' but the deck now says '" + d->now +
                      "'; restore the value, or start afresh with --run.resume=never "
                      "--output.overwrite=true");
}

void check_chain_format(std::int64_t format, const std::string& checkpoint_path) {
  if (format == kChainFormat) return;
  throw ResumeError("checkpoint '" + checkpoint_path + "' continues a chain of chain format " +
                    std::to_string(format) + ", but this latdiff draws random numbers as " +
                    "chain format " + std::to_string(kChainFormat) +
                    " does; finish it with the latdiff that wrote it, or start afresh with " +
                    "--run.resume=never --output.overwrite=true");
}

namespace {

// Rows a chain has written after `updates` updates, the rows the checkpoint keeps, and the
// step number of each kept row.
struct Cadence {
  std::string dataset;
  std::int64_t rows;          // rows the chain has written
  std::int64_t kept;          // rows the checkpoint keeps
  std::int64_t first, every;  // row i holds update first + i * every
};

std::int64_t measurements(const Config& cfg, std::int64_t updates) {
  return std::max<std::int64_t>(0, updates - cfg.run.thermalize) / cfg.run.measure_every;
}

// Measurements per /correlators and /coarse row.
std::int64_t measurements_per_row(const OutputConfig& out) {
  return out.correlators == CorrelatorMode::block ? out.block_measurements : 1;
}

std::vector<Cadence> cadences(const Config& cfg, const ChainState& state) {
  const RunConfig& run = cfg.run;
  const OutputConfig& out = cfg.output;
  const RecordCounts& kept = state.counts;
  const std::int64_t measuring = std::max<std::int64_t>(0, state.updates_done - run.thermalize);
  const std::int64_t measured = measurements(cfg, state.updates_done);
  std::vector<Cadence> c;
  c.push_back({"/observables/step", measured, kept.observables, run.thermalize + run.measure_every,
               run.measure_every});
  c.push_back({"/configurations/step", out.save_every > 0 ? measuring / out.save_every : 0,
               kept.configurations, run.thermalize + out.save_every, out.save_every});
  // /correlators and /coarse: one row per measurement, or per block of measurements.
  const std::int64_t per_row = measurements_per_row(out);
  const std::int64_t rows = measured / per_row,
                     first = run.thermalize + per_row * run.measure_every,
                     every = per_row * run.measure_every;
  if (out.correlators != CorrelatorMode::none)
    c.push_back({"/correlators/step", rows, kept.correlators, first, every});
  if (out.coarse) c.push_back({"/coarse/step", rows, kept.coarse, first, every});
  return c;
}

}  // namespace

void verify_kept_rows(const Config& cfg, const ChainState& state) {
  const std::string& file = cfg.output.file;
  const std::string& ckpt = cfg.output.checkpoint;
  auto refuse = [&](const std::string& what) {
    throw ResumeError("output.file: '" + file + "' " + what +
                      ", so it does not continue checkpoint '" + ckpt +
                      "' (written to by another run?); restore both files, or start afresh "
                      "with --run.resume=never --output.overwrite=true");
  };
  if (state.counts.sampler != state.updates_done)
    refuse("should hold " + std::to_string(state.updates_done) + " rows of /sampler/accept " +
           "but the checkpoint keeps " + std::to_string(state.counts.sampler));
  const OutputConfig& out = cfg.output;
  const bool two_point = out.correlators != CorrelatorMode::none || out.coarse;
  const std::int64_t per_row = measurements_per_row(out);
  const std::int64_t measured = measurements(cfg, state.updates_done);
  if (state.block_fill != (two_point ? measured % per_row : 0))
    throw ResumeError("checkpoint '" + ckpt + "': its partial block holds " +
                      std::to_string(state.block_fill) + " measurements, which does not fit " +
                      std::to_string(measured) + " measurements in blocks of " +
                      std::to_string(per_row));
  for (const Cadence& c : cadences(cfg, state)) {
    const std::int64_t kept = c.kept;
    if (kept != c.rows)
      refuse("should hold " + std::to_string(c.rows) + " rows of " + c.dataset + " after " +
             std::to_string(state.updates_done) + " updates but the checkpoint keeps " +
             std::to_string(kept));
    if (kept == 0) continue;
    const std::vector<double> steps = read_series(file, c.dataset);
    if (static_cast<std::int64_t>(steps.size()) < kept)
      refuse("has only " + std::to_string(steps.size()) + " rows of " + c.dataset +
             ", fewer than " + std::to_string(kept));
    for (std::int64_t i = 0; i < kept; ++i) {
      const std::int64_t expected = c.first + i * c.every;
      if (steps[static_cast<std::size_t>(i)] != static_cast<double>(expected))
        refuse("has update " +
               std::to_string(static_cast<std::int64_t>(steps[static_cast<std::size_t>(i)])) +
               " in row " + std::to_string(i) + " of " + c.dataset +
               " where the chain wrote update " + std::to_string(expected));
    }
  }
}

}  // namespace latdiff
