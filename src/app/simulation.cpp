#include "app/simulation.hpp"

#include <chrono>
#include <cmath>
#include <ctime>
#include <iostream>
#include <memory>
#include <new>
#include <variant>

#include "app/preflight.hpp"
#include "app/resume.hpp"
#include "app/signals.hpp"
#include "app/summary.hpp"
#include "app/two_point_recorder.hpp"
#include "diffusion/diffusion_model.hpp"
#include "io/checkpoint.hpp"
#include "io/collective_verdict.hpp"
#include "io/output_file.hpp"
#include "io/run_lock.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "observables/measurement.hpp"
#include "random/counter_rng.hpp"
#include "samplers/diffusion_mh.hpp"
#include "samplers/hmc.hpp"
#include "samplers/langevin.hpp"
#include "samplers/mala.hpp"
#include "samplers/metropolis.hpp"
#include "version.hpp"

namespace latdiff {

namespace {

using Sampler = std::variant<Metropolis<Phi4Model>, Hmc<Phi4Model>, Langevin<Phi4Model>,
                             Mala<Phi4Model>, DiffusionMh<Phi4Model>>;

// Collective (a Fourier-accelerated sampler plans its FFT). `diffusion` is the noise process
// and score of sampler.type = diffusion, null otherwise.
Sampler make_sampler(const Config& cfg, const Phi4Model& model, const Geometry& g,
                     DiffusionModel* diffusion) {
  const SamplerConfig& s = cfg.sampler;
  const std::uint64_t seed = cfg.run.seed;
  const bool fa = s.fourier_acceleration;  // the deck rejects it for metropolis
  switch (s.type) {
    case SamplerType::metropolis:
      return Sampler(std::in_place_index<0>, model, g, MetropolisParams{s.step, s.hits}, seed);
    case SamplerType::hmc:
      return Sampler(std::in_place_index<1>, model, g,
                     HmcParams{s.integrator, s.trajectory_length, s.md_steps, fa, s.fa_mass2},
                     seed);
    case SamplerType::langevin:
      return Sampler(std::in_place_index<2>, model, g,
                     LangevinParams{s.langevin_scheme, s.langevin_step, fa, s.fa_mass2}, seed);
    case SamplerType::mala:
      return Sampler(std::in_place_index<3>, model, g, MalaParams{s.langevin_step, fa, s.fa_mass2},
                     seed);
    case SamplerType::diffusion:
      return Sampler(std::in_place_index<4>, model, g, diffusion->noise(), diffusion->score(),
                     DiffusionParams{diffusion->depth(), diffusion->gaussian_prior()}, seed);
  }
  throw std::logic_error("make_sampler: unhandled sampler type");
}

// Samplers with an accept/reject step report -log of their Metropolis ratio (/sampler/delta_h).
bool records_delta_h(const Config& cfg) {
  const SamplerType t = cfg.sampler.type;
  return t == SamplerType::hmc || t == SamplerType::mala || t == SamplerType::diffusion;
}

// Whether run.start names a file (then its contents are part of what defines the chain).
bool is_start_file(const std::string& start) {
  return start != "cold" && start != "hot";
}

// Collective. The configuration a fresh chain starts from.
void initial_configuration(const Config& cfg, const Geometry& g, Field& phi) {
  const std::string& start = cfg.run.start;
  if (start == "cold") {
    std::fill(phi.begin(), phi.end(), 0.0);
  } else if (start == "hot") {
    CounterRng rng(cfg.run.seed, Stream::hot_start);
    for_each_site(g, [&](std::size_t p, std::int64_t gi) {
      phi[p] = 2 * rng.uniform(static_cast<std::uint64_t>(gi), 0) - 1;
    });
  } else {  // is_start_file(start)
    try {
      read_configuration(start, cfg.run.start_index, g, phi);
    } catch (const IoError& e) {
      throw IoError(std::string("run.start: ") + e.what());
    }
    // A NaN or inf would make every later update fail or be rejected.
    agree<InputError>(g.comm(), [&] {
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        if (!std::isfinite(phi[p]))
          throw InputError("run.start: '" + start + "': the configuration holds a non-finite " +
                           "value (NaN or inf) at site " + std::to_string(gi) +
                           " (global row-major index); choose another run.start_index");
      });
    });
  }
  HaloExchange(g).exchange(phi);
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Tail of a per-update series from update index `first` on (drops thermalization).
std::vector<double> tail_from(std::vector<double> v, std::int64_t first) {
  if (first >= static_cast<std::int64_t>(v.size())) return {};
  v.erase(v.begin(), v.begin() + first);
  return v;
}

class Chain {
 public:
  Chain(const Config& cfg, MPI_Comm comm)
      : cfg_(cfg),
        g_(cfg.lattice.dims, cfg.lattice.procs, comm),
        model_(g_, cfg.action),
        diffusion_(cfg.sampler.type == SamplerType::diffusion
                       ? std::make_unique<DiffusionModel>(cfg.diffusion, g_, model_.couplings())
                       : nullptr),
        sampler_(make_sampler(cfg, model_, g_, diffusion_.get())),
        phi_(make_field(g_)),
        two_point_(cfg.output, g_) {}

  // Collective. Locks the files and validates everything a resume or a fresh start needs
  // (throws InputError or BusyError-producing errors); nothing is written yet.
  void prepare() {
    const std::string& ckpt = cfg_.output.checkpoint;
    const std::string& out = cfg_.output.file;
    // Before any look at the files: nobody else may write them while this run checks them.
    lock_ = RunLock({{"output.file", out}, {"output.checkpoint", ckpt}}, g_.comm());
    if (cfg_.run.resume == ResumeMode::automatic &&
        file_exists("output.checkpoint", ckpt, g_.comm())) {
      state_ = read_checkpoint(ckpt, g_, phi_);
      check_resumable(state_.deck_text, cfg_.resolved_text, ckpt);
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
      if (state_.block_sums.size() != two_point_.width() || state_.block_fill < 0)
        throw ResumeError("checkpoint '" + ckpt +
                          "': its partial block of /correlators and /coarse does not fit the "
                          "deck's output.correlators and output.coarse");
      try {
        require_layout(out, records_delta_h(cfg_), two_point_.layout());
      } catch (const IoError& e) {
        throw ResumeError(std::string("output.file: ") + e.what() +
                          ", so it cannot continue the chain of checkpoint '" + ckpt + "'");
      }
      verify_kept_rows(cfg_, state_);
      resumed_ = true;
      return;
    }
    initial_configuration(cfg_, g_, phi_);
    if (is_start_file(cfg_.run.start))
      start_checksum_ = checkpoint_checksum(g_, phi_, ChainState{});
    check_replaceable(cfg_, "output.file", out, g_.comm(), start_checksum_);
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
                           g_.size(),          g_.procs(),      g_.global_dims(), start_checksum_};
    create_output(cfg_.output.file, meta, records_delta_h(cfg_), two_point_.layout());
  }

  // Collective. Runs the remaining updates; returns false if stopped by a signal.
  bool run() {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t first = state_.updates_done;
    bool completed = true;
    while (state_.updates_done < total_updates()) {
      const std::int64_t k = state_.updates_done;
      const UpdateResult r = std::visit(
          [&](auto& s) { return s.update(phi_, static_cast<std::uint64_t>(k)); }, sampler_);
      state_.updates_done = k + 1;
      pending_.accept.push_back(r.acceptance);
      if (records_delta_h(cfg_)) pending_.delta_h.push_back(r.delta_h);
      after_update();
      if (stop_requested(g_.comm())) {
        completed = state_.updates_done == total_updates();
        break;
      }
    }
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
    in.volume = static_cast<double>(g_.global_volume());
    in.sampler = cfg_.sampler.type;
    in.seconds = seconds_;
    in.segment_updates = segment_updates_;
    std::string header =
        resumed_ ? "resumed from checkpoint '" + cfg_.output.checkpoint + "'\n" : std::string();
    return header + format_summary(in);
  }

 private:
  std::int64_t total_updates() const { return cfg_.run.thermalize + cfg_.run.updates; }

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
  Phi4Model model_;
  std::unique_ptr<DiffusionModel> diffusion_;  // sampler.type = diffusion only
  Sampler sampler_;
  Field phi_;
  TwoPointRecorder two_point_;
  ChainState state_;
  Records pending_;
  bool resumed_ = false;
  std::optional<std::uint64_t> start_checksum_;  // of the start field, when run.start is a file
  double seconds_ = 0;
  std::int64_t segment_updates_ = 0;
};

}  // namespace

int run_simulation(const Config& cfg, MPI_Comm comm) {
  install_stop_signal_handlers();
  check_memory(cfg, comm);
  std::unique_ptr<Chain> chain;
  try {
    chain = std::make_unique<Chain>(cfg, comm);
    chain->prepare();
  } catch (const LockHeld& e) {
    throw BusyError(e.what());
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

}  // namespace latdiff
