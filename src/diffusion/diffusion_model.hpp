// What sampler.type = diffusion needs besides the lattice model, built from the [diffusion]
// deck keys and owned together: the noise process, the score model and the prior of the
// independence sampler (samplers/diffusion_mh.hpp).
#pragma once

#include <memory>

#include "diffusion/free_field_score.hpp"
#include "diffusion/noise_process.hpp"
#include "diffusion/score_model.hpp"
#include "io/config.hpp"
#include "lattice/geometry.hpp"
#include "models/phi4.hpp"

namespace latdiff {

class DiffusionModel {
 public:
  // Collective over g.comm() (plans FFTs). `g` must outlive the object. Throws
  // std::invalid_argument, alike on every rank, with a message naming the deck key.
  DiffusionModel(const DiffusionConfig& cfg, const Geometry& g, const Phi4Couplings& couplings);

  const NoiseProcess& noise() const { return noise_; }
  ScoreModel& score() { return *score_; }
  // The Gaussian prior of diffusion.prior = free_field, null for white noise.
  FreeFieldScore* gaussian_prior() { return prior_; }
  int depth() const { return depth_; }

 private:
  NoiseProcess noise_;
  std::unique_ptr<FreeFieldScore> gaussian_;  // the free-field score, also the prior
  ScoreModel* score_ = nullptr;
  FreeFieldScore* prior_ = nullptr;
  int depth_ = 0;
};

}  // namespace latdiff
