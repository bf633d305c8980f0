// The resolved run configuration: every deck key after defaults, file and command-line
// overrides have been applied and validated. Plain data; see deck.hpp for parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace latdiff {

enum class ActionForm { hopping, mass };
enum class SamplerType { metropolis, hmc, langevin, mala, diffusion };
enum class Integrator { leapfrog, omelyan };
enum class LangevinScheme { euler, leimkuhler_matthews };
enum class ResumeMode { automatic, never };
enum class CorrelatorMode { none, measurement, block };
// Diffusion proposals (diffusion/noise_process.hpp, samplers/diffusion_mh.hpp).
enum class NoiseKind { vp, ve, sub_vp };
enum class ReverseKernel { ancestral, posterior };
enum class ReverseKernelChoice { by_process, ancestral, posterior };
enum class ScoreKind { free_field };
enum class PriorKind { white, free_field };

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
  double fa_mass2 = 1.0;  // M^2 of the Fourier-acceleration kernel phat^2 + M^2

  friend bool operator==(const SamplerConfig&, const SamplerConfig&) = default;
};

struct DiffusionConfig {
  NoiseKind process = NoiseKind::vp;
  int levels = 64;                          // N
  double sigma_min = 0.01, sigma_max = 10;  // VE
  double beta_min = 0.1, beta_max = 20;     // VP, sub-VP
  ReverseKernelChoice reverse_kernel = ReverseKernelChoice::by_process;
  int depth = 0;  // 0: independence sampler over whole paths; k: depth-k renoise-denoise kernel
  ScoreKind score = ScoreKind::free_field;
  PriorKind prior = PriorKind::white;

  friend bool operator==(const DiffusionConfig&, const DiffusionConfig&) = default;
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
  bool overwrite = false;  // a fresh chain may replace another chain's output and checkpoint

  friend bool operator==(const OutputConfig&, const OutputConfig&) = default;
};

struct Config {
  LatticeConfig lattice;
  ActionConfig action;
  SamplerConfig sampler;
  DiffusionConfig diffusion;
  RunConfig run;
  OutputConfig output;
  std::string resolved_text;  // the full resolved deck as INI text (every key, with values)

  friend bool operator==(const Config&, const Config&) = default;
};

}  // namespace latdiff
