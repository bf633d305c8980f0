#include "app/training_stage.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/errors.hpp"
#include "app/preflight.hpp"
#include "app/progress.hpp"
#include "app/signals.hpp"
#include "app/simulation.hpp"
#include "app/timestamp.hpp"
#include "app/version.hpp"
#include "diffusion/diffusion_model.hpp"
#include "diffusion/score_model_file.hpp"
#include "diffusion/score_training.hpp"
#include "io/collective_verdict.hpp"
#include "io/deck.hpp"
#include "io/run_lock.hpp"
#include "random/splitmix64.hpp"

namespace latdiff {

namespace {

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> w;
  std::istringstream in(text);
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

// Rank 0's report of the fit: the loss per level at a few levels, against the noise scale.
std::string fit_report(const ScoreModelFile& m, const std::string& path) {
  const NoiseProcess noise(m.schedule);
  const int n = m.schedule.levels;
  std::int64_t held = 0;
  for (auto h : m.held_out) held += h;
  std::string text = "score model: fitted on " +
                     std::to_string(static_cast<std::int64_t>(m.step.size()) - held) +
                     " configurations, " + std::to_string(held) + " held out; written to '" + path +
                     "'\n  level  sbar      train loss  held-out loss\n";
  for (int i : {1, (n + 3) / 4, (n + 1) / 2, (3 * n + 3) / 4, n}) {
    char line[96];
    std::snprintf(line, sizeof line, "  %5d  %-8.4g  %-10.5g  %.5g\n", i, std::sqrt(noise.sbar2(i)),
                  m.train_loss[i - 1], m.holdout_loss[i - 1]);
    text += line;
    if (n == 1) break;
  }
  return text;
}

// Collective. The normal equations of every level (LinearScoreTrainer) must fit in memory.
void check_training_memory(const Config& cfg, MPI_Comm comm) {
  const double params = ScoreBasis{cfg.training.knots, cfg.training.block_sizes}.parameters();
  const double need = cfg.diffusion.levels * (params * params + params + 1) * sizeof(ExactSum);
  const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  int ranks_on_node = 1;
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &ranks_on_node);
  MPI_Comm_free(&node);
  if (need * ranks_on_node > have / 2) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "training.knots: the normal equations of %d knots at diffusion.levels = %d "
                  "need %.3g GiB per rank, more than half of this node's memory for %d ranks",
                  cfg.training.knots, cfg.diffusion.levels, need / (1 << 30), ranks_on_node);
    throw InputError(text);
  }
}

// Collective. Each training file listed once (canonical paths, decided on rank 0), and locked
// like an output file, so that no run writes it while it is read: one being written is
// BusyError. A file whose lock file cannot be created (a read-only directory) cannot be being
// written by latdiff either, and is read without a lock.
std::vector<RunLock> lock_training_files(const std::vector<std::string>& files, MPI_Comm comm) {
  agree<InputError>(comm, [&] {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0) return;
    std::vector<std::filesystem::path> seen;
    for (const std::string& f : files) {
      std::error_code ec;
      const auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(f), ec);
      if (std::find(seen.begin(), seen.end(), path) != seen.end())
        throw InputError("training.files: '" + f +
                         "' is listed twice; its configurations would count twice and the "
                         "held-out ones would not be unseen");
      seen.push_back(path);
    }
  });
  std::vector<RunLock> locks;
  for (const std::string& f : files)
    if (std::optional<RunLock> lock = lock_input_file("training.files", f, comm))
      locks.push_back(std::move(*lock));
  return locks;
}

// Collective. The warm-up chain, its refusals naming the deck key they come from: its
// output.file and output.checkpoint are derived from diffusion.model_file.
int run_warmup(const Config& warmup, const std::string& model_file, MPI_Comm comm) {
  const std::string context = "diffusion.model_file: warm-up chain of '" + model_file + "': ";
  try {
    return run_chain(warmup, comm, lock_chain_files(warmup, comm));
  } catch (const BusyError& e) {
    throw BusyError(context + e.what());
  } catch (const InputError& e) {
    throw InputError(context + e.what());
  }
}

}  // namespace

Config warmup_config(const Config& cfg) {
  Config w;
  w.lattice = cfg.lattice;
  w.model = cfg.model;
  w.action = cfg.action;
  w.rbm = cfg.rbm;
  w.rbm_training = cfg.rbm_training;
  w.sampler = cfg.sampler;
  w.sampler.type = SamplerType::hmc;
  w.sampler.interleave = Interleave::none;
  const TrainingConfig& t = cfg.training;
  w.run.seed = splitmix64(cfg.run.seed);
  w.run.thermalize = t.thermalize;
  w.run.updates = t.configurations * t.save_every;
  w.run.measure_every = t.save_every;
  w.run.start = "hot";  // run.start may name this chain's own output (the diffusion quickstart)
  w.run.resume = cfg.run.resume;
  w.output.file = replace_h5_suffix(cfg.diffusion.model_file, ".warmup.h5");
  w.output.checkpoint = replace_h5_suffix(w.output.file, ".ckpt.h5");
  w.output.save_every = t.save_every;
  w.output.checkpoint_every = cfg.output.checkpoint_every;
  w.output.overwrite = cfg.output.overwrite;
  w.output.progress_interval = cfg.output.progress_interval;
  w.resolved_text = resolved_deck(w);
  return w;
}

int prepare_score_model(const Config& cfg, MPI_Comm comm) {
  const DiffusionConfig& dif = cfg.diffusion;
  if (!cfg.sampler.uses_score_model() || dif.score != ScoreKind::trained) return kExitOk;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const auto frozen = [&] {
    if (rank == 0)
      std::cout << "score model: using the frozen model '" << dif.model_file
                << "' as it is ([training] keys unused; delete it to retrain)\n"
                << std::flush;
    return kExitOk;
  };
  if (file_exists("diffusion.model_file", dif.model_file, comm)) return frozen();
  const RunLock lock = lock_files({{"diffusion.model_file", dif.model_file}}, comm);
  // Another run may have written it between the look and the lock.
  if (file_exists("diffusion.model_file", dif.model_file, comm)) return frozen();
  check_atomic_target("diffusion.model_file", dif.model_file, comm);
  check_training_memory(cfg, comm);
  std::vector<std::string> files = words(cfg.training.files);
  if (files.empty()) {
    const Config warmup = warmup_config(cfg);
    if (rank == 0)
      std::cout << "warm-up: HMC chain for the training configurations of '" << dif.model_file
                << "' in '" << warmup.output.file << "'\n"
                << std::flush;
    if (const int code = run_warmup(warmup, dif.model_file, comm); code != kExitOk) return code;
    files = {warmup.output.file};
  }
  const std::vector<RunLock> data_locks = lock_training_files(files, comm);
  const Geometry g(cfg.lattice.dims, cfg.lattice.procs, comm);
  const NoiseProcess noise = noise_process(dif);
  ScoreModelFile m;
  ProgressSettings shown{cfg.output.progress_interval, rank == 0 && stdout_is_terminal(),
                         dif.model_file};
  shown.step = "configuration";
  shown.phase = "training";
  shown.acceptance = false;
  std::optional<ProgressReporter> progress;
  try {
    m = train_linear_score(g, noise, files,
                           {{cfg.training.knots, cfg.training.block_sizes},
                            cfg.training.draws,
                            cfg.training.holdout,
                            cfg.run.seed,
                            [comm] { return stop_requested(comm); },
                            [&](std::int64_t done, std::int64_t total) {
                              if (!progress) {
                                shown.total = total;
                                progress.emplace(shown, 0, rank == 0, std::cout);
                              }
                              progress->update(done, 0);
                            }});
    if (progress) progress->finish(static_cast<std::int64_t>(m.step.size()));
  } catch (const TrainingStopped& e) {
    if (rank == 0)
      std::cout << e.what() << "; the training restarts when the same deck is run again\n"
                << std::flush;
    return kExitInterrupted;
  } catch (const IoError& e) {
    throw InputError(std::string("training.files: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw InputError(std::string("training.files: the fit failed (") + e.what() +
                     "); use more or more varied configurations");
  }
  m.deck = cfg.resolved_text;
  m.version = kLatdiffVersion;
  m.created = now_iso8601();
  write_score_model(dif.model_file, m, comm);
  if (rank == 0) std::cout << fit_report(m, dif.model_file) << std::flush;
  return kExitOk;
}

}  // namespace latdiff
