// What sampler.type = diffusion needs besides the lattice model, built from the [diffusion]
// deck keys and owned together: the noise process, the score model (the free-field score, or
// the trained score of diffusion.model_file) and the prior of the independence sampler
// (samplers/diffusion_mh.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "diffusion/free_field_score.hpp"
#include "diffusion/linear_score.hpp"
#include "diffusion/noise_process.hpp"
#include "diffusion/score_model.hpp"
#include "io/config.hpp"
#include "lattice/geometry.hpp"
#include "models/phi4.hpp"

namespace latdiff {

// The noise process of the [diffusion] keys.
NoiseProcess noise_process(const DiffusionConfig& c);

class DiffusionModel {
 public:
  // Collective over g.comm() (plans FFTs; reads diffusion.model_file for a trained score).
  // `g` must outlive the object. `gaussian_part`: the quadratic part of the action in phi^4
  // form, which the free-field score and prior are built from; a model without one (an RBM)
  // takes a trained score and the white prior only. Throws std::invalid_argument, alike on
  // every rank, with a message naming the deck key (a model file that is unreadable, corrupt,
  // of another dimension or noise process; free_field without a Gaussian part).
  DiffusionModel(const DiffusionConfig& cfg, const Geometry& g,
                 const std::optional<Phi4Couplings>& gaussian_part);

  const NoiseProcess& noise() const { return noise_; }
  ScoreModel& score() { return *score_; }
  // The Gaussian prior of diffusion.prior = free_field, null for white noise.
  FreeFieldScore* gaussian_prior() { return prior_; }
  int depth() const { return depth_; }
  // model_checksum of the trained score's file; nothing for the free-field score.
  std::optional<std::uint64_t> model_checksum() const { return checksum_; }

 private:
  NoiseProcess noise_;
  std::unique_ptr<FreeFieldScore> gaussian_;  // the free-field score and/or prior
  std::unique_ptr<LinearScore> trained_;
  ScoreModel* score_ = nullptr;
  FreeFieldScore* prior_ = nullptr;
  int depth_ = 0;
  std::optional<std::uint64_t> checksum_;
};

}  // namespace latdiff
