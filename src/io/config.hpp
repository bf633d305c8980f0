// The resolved run configuration: every deck key after defaults, file and command-line
// overrides have been applied and validated. Plain data; see deck.hpp for parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace latdiff {

enum class ModelType { phi4, rbm };
enum class ActionForm { hopping, mass };
// flip stays last: app/sampler_registry.hpp counts the types by it.
enum class SamplerType { metropolis, hmc, langevin, mala, diffusion, generate, gibbs, flip };
// sampler.interleave: none, or a sampler type run between the updates of sampler.type.
enum class Interleave { none, metropolis, hmc, langevin, mala, diffusion, gibbs, flip };
enum class Integrator { leapfrog, omelyan };
enum class LangevinScheme { euler, leimkuhler_matthews };
enum class ResumeMode { automatic, never };
enum class CorrelatorMode { none, measurement, block };
// Diffusion proposals (diffusion/noise_process.hpp, samplers/diffusion_mh.hpp).
enum class NoiseKind { vp, ve, sub_vp };
enum class ReverseKernel { ancestral, posterior };
enum class ReverseKernelChoice { by_process, ancestral, posterior };
enum class ScoreKind { free_field, trained };
enum class PriorKind { white, free_field };
// Generators without Metropolis-Hastings (diffusion/generators.hpp).
enum class GeneratorMethod { ancestral, euler_maruyama, predictor_corrector, probability_flow };

struct LatticeConfig {
  std::vector<int> dims;   // global extents L_0 ... L_{d-1}, d = 1..4, each >= 2
  std::vector<int> procs;  // process grid, same length as dims; empty = choose automatically

  friend bool operator==(const LatticeConfig&, const LatticeConfig&) = default;
};

struct ActionConfig {
  ActionForm form = ActionForm::hopping;
  double kappa = 0.0;   // hopping form
  double lambda = 0.0;  // hopping form, >= 0
  double m2 = 1.0;      // mass form
  double g = 0.0;       // mass form, >= 0

  friend bool operator==(const ActionConfig&, const ActionConfig&) = default;
};

// [rbm]: a restricted Boltzmann machine (models/rbm.hpp) whose visible units are the sites of
// lattice.dims (n_v = V, row-major global order).
enum class RbmUnitsChoice { binary, spin, gaussian };
enum class RbmVisibleLayout { lattice, vector };

struct RbmConfig {
  RbmUnitsChoice visible_units = RbmUnitsChoice::binary;
  RbmUnitsChoice hidden_units = RbmUnitsChoice::binary;  // binary or spin
  RbmVisibleLayout visible = RbmVisibleLayout::lattice;
  std::int64_t hidden = 16;           // n_h
  std::string model_file;             // resolved: never empty when model.type = rbm
  std::vector<double> weights;        // initial W, row-major n_v x n_h; empty: random
  std::vector<double> visible_bias;   // initial a (Gaussian: mu); empty: 0
  std::vector<double> hidden_bias;    // initial b; empty: 0
  std::vector<double> visible_sigma;  // Gaussian: s; empty: 1
  double init_scale = 0.01;           // random initial W ~ N(0, init_scale^2)

  friend bool operator==(const RbmConfig&, const RbmConfig&) = default;
};

enum class RbmTrainingMethod { cd, pcd };
enum class RbmDataTransform { automatic, sign, value };
enum class LearningRateSchedule { constant, linear, exponential };
enum class LogLikelihoodMethod { automatic, exact, ais, none };

// [rbm_training]: CD-k / PCD training of the RBM when rbm.model_file does not exist yet.
struct RbmTrainingConfig {
  std::string data;  // HDF5 file; empty: no training
  std::string dataset = "/configurations/phi";
  RbmDataTransform transform = RbmDataTransform::automatic;
  std::int64_t epochs = 10;
  std::int64_t batch_size = 10;
  RbmTrainingMethod method = RbmTrainingMethod::cd;
  int gibbs_steps = 1;
  int chains = 10;
  double learning_rate = 0.05;
  double learning_rate_final = 0.05;
  LearningRateSchedule schedule = LearningRateSchedule::constant;
  double momentum = 0.5;
  double weight_decay = 0.0;
  double holdout = 0.2;
  std::int64_t record_every = 0;  // record the phases of every n-th step (0: none)
  bool print_phases = false;
  LogLikelihoodMethod log_likelihood = LogLikelihoodMethod::automatic;
  int ais_runs = 100;
  int ais_temperatures = 100;
  std::string output;  // resolved: never empty

  friend bool operator==(const RbmTrainingConfig&, const RbmTrainingConfig&) = default;
};

// Hits a Metropolis sweep's random-number counter has room for (samplers/metropolis.hpp).
inline constexpr int kMaxMetropolisHits = 4095;

struct SamplerConfig {
  SamplerType type = SamplerType::hmc;
  double step = 1.0;  // metropolis: proposal phi' = phi + step * U(-1, 1)
  int hits = 1;       // metropolis: hits per site per sweep
  Integrator integrator = Integrator::omelyan;
  double trajectory_length = 1.0;                          // hmc: tau
  int md_steps = 10;                                       // hmc: integration steps per trajectory
  double langevin_step = 0.01;                             // langevin, mala: Langevin time step eps
  LangevinScheme langevin_scheme = LangevinScheme::euler;  // langevin only
  bool fourier_acceleration = false;                       // hmc, langevin, mala
  double fa_mass2 = 1.0;                     // M^2 of the Fourier-acceleration kernel phat^2 + M^2
  Interleave interleave = Interleave::none;  // sampler run after each sampler.type update
  int interleave_updates = 1;                // its updates per cycle

  friend bool operator==(const SamplerConfig&, const SamplerConfig&) = default;

  // Updates per cycle: 1 + interleave_updates with an interleaved sampler, else 1.
  std::int64_t cycle_length() const {
    return interleave == Interleave::none ? 1 : 1 + static_cast<std::int64_t>(interleave_updates);
  }
  // Whether update k (0-based) is sampler.type's: the first of each cycle.
  bool primary_update(std::int64_t k) const { return k % cycle_length() == 0; }
  // The type that runs update k.
  SamplerType type_of_update(std::int64_t k) const {
    return primary_update(k) ? type : interleaved_type();
  }
  // The type of sampler.interleave (sampler.type when none).
  SamplerType interleaved_type() const {
    switch (interleave) {
      case Interleave::none:
        return type;
      case Interleave::metropolis:
        return SamplerType::metropolis;
      case Interleave::hmc:
        return SamplerType::hmc;
      case Interleave::langevin:
        return SamplerType::langevin;
      case Interleave::mala:
        return SamplerType::mala;
      case Interleave::diffusion:
        return SamplerType::diffusion;
      case Interleave::gibbs:
        return SamplerType::gibbs;
      case Interleave::flip:
        return SamplerType::flip;
    }
    return type;
  }
  // Whether sampler.type or the interleaved sampler is t.
  bool runs(SamplerType t) const { return type == t || interleaved_type() == t; }
  // Whether the chain needs the noise process and score model of [diffusion].
  bool uses_score_model() const {
    return runs(SamplerType::diffusion) || runs(SamplerType::generate);
  }
};

struct DiffusionConfig {
  NoiseKind process = NoiseKind::vp;
  int levels = 64;                          // N
  double sigma_min = 0.01, sigma_max = 10;  // VE
  double beta_min = 0.1, beta_max = 20;     // VP, sub-VP
  ReverseKernelChoice reverse_kernel = ReverseKernelChoice::by_process;
  int depth = 0;  // 0: independence sampler over whole paths; k: depth-k renoise-denoise kernel
  ScoreKind score = ScoreKind::free_field;
  std::string model_file;  // trained score (resolved: never empty when score = trained)
  PriorKind prior = PriorKind::white;
  std::int64_t ess_block = 100;  // updates per effective-sample-size block (/sampler/ess)
  GeneratorMethod generator = GeneratorMethod::ancestral;  // sampler.type = generate
  int corrector_steps = 1;                                 // predictor_corrector
  double snr = 0.16;                                       // predictor_corrector

  friend bool operator==(const DiffusionConfig&, const DiffusionConfig&) = default;
};

// How diffusion.score = trained learns its model when diffusion.model_file does not exist yet.
struct TrainingConfig {
  std::string files;                  // space-separated latdiff output files; empty: HMC warm-up
  std::int64_t thermalize = 200;      // warm-up: HMC trajectories before the first saved one
  std::int64_t configurations = 200;  // warm-up: configurations saved for training
  std::int64_t save_every = 5;        // warm-up: trajectories between saved configurations
  double holdout = 0.2;               // fraction of the configurations kept out of the fit
  int draws = 4;                      // noise draws per configuration and level
  int knots = 9;                      // knots of the momentum kernel (linear_score.hpp)
  std::vector<int> block_sizes{0};    // block terms of the score (0: the zero mode)

  friend bool operator==(const TrainingConfig&, const TrainingConfig&) = default;
};

struct RunConfig {
  std::uint64_t seed = 1;
  std::int64_t thermalize = 0;     // updates before measuring
  std::int64_t updates = 1000;     // updates after thermalization
  std::int64_t measure_every = 1;  // measure every n-th update (after thermalization)
  std::string start = "cold";      // cold | hot | path of an HDF5 output file
  std::int64_t start_index = -1;   // which saved configuration of `start` (-1 = last)
  ResumeMode resume = ResumeMode::automatic;

  friend bool operator==(const RunConfig&, const RunConfig&) = default;
};

struct OutputConfig {
  std::string file = "latdiff.h5";
  std::int64_t save_every = 0;        // save configuration every n-th update (0 = never)
  std::string checkpoint;             // checkpoint path (resolved: never empty)
  std::int64_t checkpoint_every = 0;  // checkpoint every n-th update (0 = only at end/signal)
  CorrelatorMode correlators = CorrelatorMode::none;  // /correlators rows: none, each, per block
  std::int64_t block_measurements = 100;              // measurements per block (block mode)
  bool coarse = false;                                // /coarse block-spin levels
  bool overwrite = false;         // a fresh chain may replace another chain's output and checkpoint
  double progress_interval = 10;  // seconds between progress lines on rank 0 (0: none)

  friend bool operator==(const OutputConfig&, const OutputConfig&) = default;
};

struct Config {
  LatticeConfig lattice;
  ModelType model = ModelType::phi4;
  ActionConfig action;
  RbmConfig rbm;
  SamplerConfig sampler;
  DiffusionConfig diffusion;
  TrainingConfig training;
  RbmTrainingConfig rbm_training;
  RunConfig run;
  OutputConfig output;
  std::string resolved_text;  // the full resolved deck as INI text (every key, with values)

  friend bool operator==(const Config&, const Config&) = default;
};

}  // namespace latdiff
