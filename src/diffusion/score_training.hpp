// Training of the linear physics score (linear_score.hpp) from latdiff output files: denoising
// score matching on every saved configuration (/configurations/phi), the last ones held out to
// measure the denoising loss on unseen data. Translation invariance and the Z2 symmetry are
// exact properties of the basis, so no augmentation is needed. The result is bitwise the same
// on every process grid (exact sums, noise per global site from Stream::diffusion_training).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "diffusion/noise_process.hpp"
#include "diffusion/score_basis.hpp"
#include "diffusion/score_model_file.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

struct ScoreTrainingOptions {
  ScoreBasis basis;
  int draws = 4;         // noise draws per configuration and level
  double holdout = 0.2;  // fraction of the configurations (the last ones) not fitted
  std::uint64_t seed = 1;
  // Collective, asked after every configuration: true stops the training (TrainingStopped).
  std::function<bool()> stop_requested;
  // Not collective, called on every rank after each configuration with (done, total).
  std::function<void(std::int64_t, std::int64_t)> progress;
};

// Training ended early by options.stop_requested; nothing is kept.
struct TrainingStopped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Collective over g.comm(). Fits one LinearScore per level of `noise` on the configurations of
// `files` (in file order, each file's in stored order); sample c of the noise stream is the
// c-th configuration overall. Returns the parameters, losses and the per-configuration
// provenance; deck, version and created are left to the caller. Throws IoError, alike on every
// rank, naming the file (unreadable, not a latdiff output file, no saved configurations,
// another lattice shape, a non-finite value), or when too few configurations remain to fit.
ScoreModelFile train_linear_score(const Geometry& g, const NoiseProcess& noise,
                                  const std::vector<std::string>& files,
                                  const ScoreTrainingOptions& options);

}  // namespace latdiff
