#include "app/simulation.hpp"

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <variant>

#include "app/chain_models.hpp"
#include "app/preflight.hpp"
#include "app/progress.hpp"
#include "app/rbm_stage.hpp"
#include "app/resume.hpp"
#include "app/sampler_registry.hpp"
#include "app/signals.hpp"
#include "app/summary.hpp"
#include "app/timestamp.hpp"
#include "app/training_stage.hpp"
#include "app/two_point_recorder.hpp"
#include "app/version.hpp"
#include "diffusion/diffusion_model.hpp"
#include "io/checkpoint.hpp"
#include "io/collective_verdict.hpp"
#include "io/output_file.hpp"
#include "io/run_lock.hpp"
#include "lattice/halo_exchange.hpp"
#include "observables/measurement.hpp"
#include "random/counter_rng.hpp"
#include "random/splitmix64.hpp"
#include "stats/importance_weights.hpp"

namespace latdiff {

namespace {

// Samplers with an accept/reject step report -log of their Metropolis ratio (/sampler/delta_h;
// NaN in the rows of an interleaved sampler without one).
bool records_delta_h(const Config& cfg) {
  const SamplerConfig& s = cfg.sampler;
  return s.runs(SamplerType::hmc) || s.runs(SamplerType::mala) || s.runs(SamplerType::diffusion);
}

// The diffusion MH sampler reports its proposals' path log-weights (/sampler/log_weight) and
// their effective sample size per block (/sampler/ess).
bool records_path_weights(const Config& cfg) {
  return cfg.sampler.runs(SamplerType::diffusion);
}

// The output layout of cfg beyond the fixed datasets.
ExtraOutput output_layout(const Config& cfg, const TwoPointRecorder& two_point) {
  ExtraOutput layout = two_point.layout();
  layout.path_weights = records_path_weights(cfg);
  return layout;
}

// Whether run.start names a file (then its contents are part of what defines the chain).
bool is_start_file(const std::string& start) {
  return start != "cold" && start != "hot";
}

// Collective. The configuration a fresh chain starts from.
template <class Model>
void initial_configuration(const Config& cfg, const Geometry& g, const Model& model, Field& phi) {
  using Values = ChainModel<Model>;
  const std::string& start = cfg.run.start;
  if (start == "cold") {
    std::fill(phi.begin(), phi.end(), Values::cold_value(model));
  } else if (start == "hot") {
    CounterRng rng(cfg.run.seed, Stream::hot_start);
    for_each_site(g, [&](std::size_t p, std::int64_t gi) {
      phi[p] = Values::hot_value(model, rng.uniform(static_cast<std::uint64_t>(gi), 0));
    });
  } else {  // is_start_file(start)
    try {
      read_configuration(start, cfg.run.start_index, g, phi);
    } catch (const IoError& e) {
      throw IoError(std::string("run.start: ") + e.what());
    }
    // A NaN or inf (or a value a discrete model does not have) would make every later update
    // fail or be rejected.
    agree<InputError>(g.comm(), [&] {
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        const std::string site = " at site " + std::to_string(gi) +
                                 " (global row-major index); choose another " + "run.start_index";
        if (!std::isfinite(phi[p]))
          throw InputError("run.start: '" + start +
                           "': the configuration holds a non-finite value (NaN or inf)" + site);
        if (!Values::admissible(model, phi[p]))
          throw InputError("run.start: '" + start + "': the configuration holds " +
                           std::to_string(phi[p]) + ", not a " + Values::admissible_text(model) +
                           " value," + site);
      });
    });
  }
  HaloExchange(g).exchange(phi);
}

// The checksum of the models a chain runs with: its own (read from a file) and its trained
// score, folded together when there are both.
std::optional<std::uint64_t> combined_checksum(std::optional<std::uint64_t> model,
                                               std::optional<std::uint64_t> score) {
  if (!model) return score;
  if (!score) return model;
  return splitmix64(*model ^ splitmix64(*score));
}

// Tail of a per-update series from update index `first` on (drops thermalization).
std::vector<double> tail_from(std::vector<double> v, std::int64_t first) {
  if (first >= static_cast<std::int64_t>(v.size())) return {};
  v.erase(v.begin(), v.begin() + first);
  return v;
}

template <class Model>
class Chain {
 public:
  Chain(const Config& cfg, MPI_Comm comm)
      : cfg_(cfg),
        g_(cfg.lattice.dims, cfg.lattice.procs, comm),
        model_(ChainModel<Model>::make(cfg, g_)),
        diffusion_(cfg.sampler.uses_score_model() ? ChainModel<Model>::diffusion(cfg, g_, model_)
                                                  : nullptr),
        sampler_(make_sampler<Model>(cfg.sampler.type, context())),
        interleaved_(cfg.sampler.interleave == Interleave::none
                         ? std::nullopt
                         : std::optional<Sampler>(
                               make_sampler<Model>(cfg.sampler.interleaved_type(), context()))),
        phi_(make_field(g_)),
        two_point_(cfg.output, g_) {
    inputs_.model_checksum =
        combined_checksum(ChainModel<Model>::checksum(model_),
                          diffusion_ ? diffusion_->model_checksum() : std::nullopt);
  }

  // Collective. Keeps the locks of the chain's files (lock_chain_files: taken before any look
  // at the files, so nobody else writes them while this run checks them) and validates
  // everything a resume or a fresh start needs (throws InputError-producing errors); nothing is
  // written yet.
  void prepare(RunLock lock) {
    lock_ = std::move(lock);
    const std::string& ckpt = cfg_.output.checkpoint;
    const std::string& out = cfg_.output.file;
    if (cfg_.run.resume == ResumeMode::automatic &&
        file_exists("output.checkpoint", ckpt, g_.comm())) {
      state_ = read_checkpoint(ckpt, g_, phi_);
      check_resumable(state_.deck_text, cfg_.resolved_text, ckpt);
      check_chain_format(state_.chain_format, ckpt);
      if (state_.updates_done > total_updates())
        throw ResumeError(
            "run.updates: checkpoint '" + ckpt + "' already holds " +
            std::to_string(state_.updates_done) +
            " updates, more than thermalize + updates = " + std::to_string(total_updates()));
      if (!file_exists("output.file", out, g_.comm()))
        throw ResumeError("output.file: '" + out + "' is missing but checkpoint '" + ckpt +
                          "' continues it; start afresh with --run.resume=never");
      // The output file must be this chain's, not one written since by another deck.
      check_resumable(read_output_deck(out), cfg_.resolved_text, out, "output file");
      check_model_unchanged();
      if (state_.block_sums.size() != two_point_.width() || state_.block_fill < 0)
        throw ResumeError("checkpoint '" + ckpt +
                          "': its partial block of /correlators and /coarse does not fit the "
                          "deck's output.correlators and output.coarse");
      try {
        require_layout(out, records_delta_h(cfg_), output_layout(cfg_, two_point_));
      } catch (const IoError& e) {
        throw ResumeError(std::string("output.file: ") + e.what() +
                          ", so it cannot continue the chain of checkpoint '" + ckpt + "'");
      }
      verify_kept_rows(cfg_, state_);
      resume_ess_block();
      resumed_ = true;
      return;
    }
    initial_configuration(cfg_, g_, model_, phi_);
    if (is_start_file(cfg_.run.start))
      inputs_.start_checksum = checkpoint_checksum(g_, phi_, ChainState{});
    check_replaceable(cfg_, "output.file", out, g_.comm(), inputs_);
    check_replaceable(cfg_, "output.checkpoint", ckpt, g_.comm());
  }

  // Collective. Truncates the output file to the checkpoint's rows, or creates it: the first
  // writes of the run, after prepare() has validated everything.
  void begin() {
    if (resumed_) {
      truncate_output(cfg_.output.file, state_.counts);
      HaloExchange(g_).exchange(phi_);
      return;
    }
    state_ = ChainState{0, RecordCounts{}, cfg_.resolved_text,
                        std::vector<double>(two_point_.width(), 0.0), 0};
    const RunMetadata meta{cfg_.resolved_text, kLatdiffVersion, now_iso8601(),    cfg_.run.seed,
                           g_.size(),          g_.procs(),      g_.global_dims(), inputs_};
    create_output(cfg_.output.file, meta, records_delta_h(cfg_), output_layout(cfg_, two_point_));
  }

  // Collective. Runs the remaining updates; returns false if stopped by a signal.
  bool run() {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t first = state_.updates_done;
    ProgressReporter progress(
        {cfg_.output.progress_interval, g_.rank() == 0 && stdout_is_terminal(), cfg_.output.file,
         cfg_.run.thermalize, total_updates()},
        first, g_.rank() == 0, std::cout);
    bool completed = true;
    while (state_.updates_done < total_updates()) {
      const std::int64_t k = state_.updates_done;
      const UpdateResult r =
          std::visit([&](auto& s) { return s.update(phi_, static_cast<std::uint64_t>(k)); },
                     cfg_.sampler.primary_update(k) ? sampler_ : *interleaved_);
      state_.updates_done = k + 1;
      pending_.accept.push_back(r.acceptance);
      if (records_delta_h(cfg_)) pending_.delta_h.push_back(r.delta_h);
      if (records_path_weights(cfg_)) record_path_weight(k, r.log_weight);
      after_update();
      progress.update(state_.updates_done, r.acceptance);
      if (stop_requested(g_.comm())) {
        completed = state_.updates_done == total_updates();
        break;
      }
    }
    progress.finish(state_.updates_done);
    checkpoint();
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    segment_updates_ = state_.updates_done - first;
    return completed;
  }

  // Collective; rank 0 returns the text.
  std::string summary() const {
    SummaryInput in;
    in.mag = read_series(cfg_.output.file, "/observables/mag");
    in.accept = tail_from(read_series(cfg_.output.file, "/sampler/accept"), cfg_.run.thermalize);
    if (records_delta_h(cfg_))
      in.delta_h =
          tail_from(read_series(cfg_.output.file, "/sampler/delta_h"), cfg_.run.thermalize);
    if (records_path_weights(cfg_))
      in.ess = tail_from(read_series(cfg_.output.file, "/sampler/ess"), cfg_.run.thermalize);
    in.volume = static_cast<double>(g_.global_volume());
    in.sampler = cfg_.sampler.type;
    in.seconds = seconds_;
    in.segment_updates = segment_updates_;
    std::string header =
        resumed_ ? "resumed from checkpoint '" + cfg_.output.checkpoint + "'\n" : std::string();
    return header + format_summary(in);
  }

 private:
  using Sampler = SamplerVariant<Model>;

  SamplerContext<Model> context() { return {cfg_, model_, g_, diffusion_.get()}; }
  std::int64_t total_updates() const { return cfg_.run.thermalize + cfg_.run.updates; }

  // The proposal's log-weight of update k (0-based), and at the end of an ESS block (update
  // number k + 1 a multiple of diffusion.ess_block) the ESS of the block's diffusion proposals
  // for the independence sampler.
  void record_path_weight(std::int64_t k, double log_weight) {
    pending_.log_weight.push_back(log_weight);
    if (cfg_.sampler.type_of_update(k) == SamplerType::diffusion) ess_block_.push_back(log_weight);
    double ess = std::numeric_limits<double>::quiet_NaN();
    if (state_.updates_done % cfg_.diffusion.ess_block == 0) {
      if (cfg_.diffusion.depth == 0) ess = stats::normalised_ess(ess_block_);
      ess_block_.clear();
    }
    pending_.ess.push_back(ess);
  }

  // Collective. The log-weights of the partial ESS block at the checkpoint, from the output
  // file (its rows up to the checkpoint are the chain's, verify_kept_rows has checked).
  void resume_ess_block() {
    if (!records_path_weights(cfg_)) return;
    const std::vector<double> w = read_series(cfg_.output.file, "/sampler/log_weight");
    const std::int64_t first = state_.updates_done - state_.updates_done % cfg_.diffusion.ess_block;
    if (static_cast<std::int64_t>(w.size()) < state_.updates_done)
      throw ResumeError("output.file: '" + cfg_.output.file +
                        "': /sampler/log_weight has fewer rows than the checkpoint's updates");
    ess_block_.clear();
    for (std::int64_t k = first; k < state_.updates_done; ++k)
      if (cfg_.sampler.type_of_update(k) == SamplerType::diffusion) ess_block_.push_back(w[k]);
  }

  // "KEY: 'path'" of the chain's model files ("... or KEY 'path'" for a second one): which of
  // them changed, a combined checksum cannot tell.
  std::string model_files_text() const {
    std::string text;
    for (const auto& [key, path] : model_files(cfg_))
      text += text.empty() ? key + ": '" + path + "'" : " or " + key + " '" + path + "'";
    return text;
  }

  // Collective. A resumed chain must go on with the frozen models it started with.
  void check_model_unchanged() const {
    if (!inputs_.model_checksum) return;
    const std::optional<ChainIdentity> id = probe_chain(cfg_.output.file);
    if (!id || id->inputs.model_checksum != inputs_.model_checksum)
      throw ResumeError(model_files_text() + " is not the model that output file '" +
                        cfg_.output.file +
                        "' was run with (checksums differ); restore that model file, or start "
                        "afresh with --run.resume=never --output.overwrite=true");
  }

  // Collective. Measurement, configuration saves and checkpoints due after an update.
  void after_update() {
    const std::int64_t step = state_.updates_done;
    const std::int64_t since = step - cfg_.run.thermalize;
    if (since > 0 && since % cfg_.run.measure_every == 0) {
      const Measurement m = measure(g_, model_, phi_);
      pending_.step.push_back(step);
      pending_.mag.push_back(m.mag);
      pending_.phi2.push_back(m.phi2);
      pending_.action_density.push_back(m.action_density);
      pending_.nn.push_back(m.nn);
      two_point_.measure(phi_, step, state_, pending_);
    }
    if (since > 0 && cfg_.output.save_every > 0 && since % cfg_.output.save_every == 0) {
      flush();
      append_configuration(cfg_.output.file, g_, phi_, step);
      ++state_.counts.configurations;
    }
    if (cfg_.output.checkpoint_every > 0 && step % cfg_.output.checkpoint_every == 0)
      checkpoint();
    else if (pending_.accept.size() >= kMaxPendingRows)
      flush();
  }

  // Collective. Writes buffered rows to the output file.
  void flush() {
    if (pending_.accept.empty() && pending_.step.empty()) return;
    append_records(cfg_.output.file, pending_);
    state_.counts.observables += static_cast<std::int64_t>(pending_.step.size());
    state_.counts.sampler += static_cast<std::int64_t>(pending_.accept.size());
    state_.counts.correlators += static_cast<std::int64_t>(pending_.correlators_step.size());
    state_.counts.coarse += static_cast<std::int64_t>(pending_.coarse_step.size());
    pending_.clear();
  }

  // Collective. Output first, then the checkpoint that refers to it: a crash in between
  // leaves extra rows that the next resume truncates.
  void checkpoint() {
    lock_.check_still_held(g_.comm());
    flush();
    write_checkpoint(cfg_.output.checkpoint, g_, phi_, state_);
  }

  static constexpr std::size_t kMaxPendingRows = 1 << 16;
  const Config& cfg_;
  RunLock lock_;  // first member: released last
  Geometry g_;
  Model model_;
  std::unique_ptr<DiffusionModel> diffusion_;  // sampler.type = diffusion only
  Sampler sampler_;
  std::optional<Sampler> interleaved_;  // sampler.interleave, when set
  Field phi_;
  TwoPointRecorder two_point_;
  ChainState state_;
  Records pending_;
  bool resumed_ = false;
  ChainInputs inputs_;             // checksums of the start field (a file) and of the trained score
  std::vector<double> ess_block_;  // log-weights of the current ESS block
  double seconds_ = 0;
  std::int64_t segment_updates_ = 0;
};

}  // namespace

RunLock lock_files(const std::vector<RunLock::Target>& targets, MPI_Comm comm) {
  try {
    return RunLock(targets, comm);
  } catch (const LockHeld& e) {
    throw BusyError(e.what());
  } catch (const LockError& e) {
    throw InputError(e.what());
  }
}

std::optional<RunLock> lock_input_file(const std::string& key, const std::string& path,
                                       MPI_Comm comm) {
  try {
    return RunLock({{key, path}}, comm);
  } catch (const LockHeld& e) {
    throw BusyError(e.what());
  } catch (const LockError&) {
    return std::nullopt;
  }
}

RunLock lock_chain_files(const Config& cfg, MPI_Comm comm) {
  return lock_files(
      {{"output.file", cfg.output.file}, {"output.checkpoint", cfg.output.checkpoint}}, comm);
}

namespace {

template <class Model>
int run_chain_of(const Config& cfg, MPI_Comm comm, RunLock lock) {
  std::unique_ptr<Chain<Model>> chain;
  try {
    chain = std::make_unique<Chain<Model>>(cfg, comm);
    chain->prepare(std::move(lock));
  } catch (const std::bad_alloc&) {
    // Memory the estimate of check_memory did not foresee (other processes on the node).
    throw InputError(
        "lattice.dims: out of memory while setting up the lattice; use a smaller lattice or "
        "spread the ranks over more nodes");
  } catch (const std::exception& e) {
    throw InputError(e.what());
  }
  chain->begin();
  const bool completed = chain->run();
  const std::string summary = chain->summary();
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    std::cout << summary << std::flush;
    if (!completed)
      std::cout << "stopped by signal: checkpoint '" << cfg.output.checkpoint
                << "' written; run the same deck again to continue\n";
  }
  return completed ? kExitOk : kExitInterrupted;
}

}  // namespace

int run_chain(const Config& cfg, MPI_Comm comm, RunLock lock) {
  switch (cfg.model) {
    case ModelType::phi4:
      return run_chain_of<Phi4Model>(cfg, comm, std::move(lock));
    case ModelType::rbm:
      return run_chain_of<RbmFieldModel>(cfg, comm, std::move(lock));
  }
  throw std::logic_error("run_chain: unhandled model type");
}

int run_simulation(const Config& cfg, MPI_Comm comm) {
  install_stop_signal_handlers();
  check_memory(cfg, comm);
  check_distinct_files(cfg, comm);
  // Before the training stage, so that a second run on the same files stops at once.
  RunLock lock = lock_chain_files(cfg, comm);
  if (const int code = prepare_rbm_model(cfg, comm); code != kExitOk) return code;
  // An RBM job without updates is its model stage alone (training, or a model file to write).
  if (cfg.model == ModelType::rbm && cfg.run.thermalize + cfg.run.updates == 0) return kExitOk;
  if (const int code = prepare_score_model(cfg, comm); code != kExitOk) return code;
  return run_chain(cfg, comm, std::move(lock));
}

}  // namespace latdiff
