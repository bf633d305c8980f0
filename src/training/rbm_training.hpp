// Maximum-likelihood training of RBMs (models/rbm.hpp) by contrastive divergence (CD-k) or
// persistent contrastive divergence (PCD, Tieleman 2008). For a minibatch of data v:
//   positive phase: the data with the hidden expectations E[h | v] (and states h ~ p(h | v));
//   negative phase: model samples after k block-Gibbs sweeps (samplers/rbm_samplers.hpp)
//                   started from the data (CD-k) or from persistent chains (PCD);
//   dtheta = lr (<-dE/dtheta>_pos - <-dE/dtheta>_neg) - lr decay theta (W only),
// with classical momentum: velocity = momentum velocity + dtheta, theta += velocity.
// Trained: W, the visible biases a (Gaussian units: the means mu) and the hidden biases b;
// Gaussian sigmas stay fixed. -dE/dW_ij = v'_i h_j, -dE/da_i = v_i (Gaussian: (v_i - mu_i) /
// s_i^2), -dE/db_j = h_j, with v' as in Rbm::coupled. Every rank computes the gradient of its
// visible units' rows from replicated hidden expectations, and the rows are then shared, so
// training is bitwise the same on any number of ranks. Collective over the layout.
#pragma once

#include <cstdint>
#include <vector>

#include "models/rbm.hpp"
#include "samplers/rbm_samplers.hpp"

namespace latdiff {

struct RbmTrainingSettings {
  int gibbs_steps = 1;      // k of CD-k, or the sweeps per step of the persistent chains
  bool persistent = false;  // PCD
  int chains = 10;          // PCD: persistent chains (CD: one per data configuration)
  double learning_rate = 0.05;
  double momentum = 0.0;
  double weight_decay = 0.0;
};

// What one training step saw: the phases' states and energies (local visible parts), under
// the model before the step.
struct RbmPhases {
  std::vector<RbmState> positive, negative;
  std::vector<double> positive_energy, negative_energy;  // E(v, h) of each state
  // sum over the positive states and every visible unit of (v_i - E[v_i | h])^2 (exact)
  double reconstruction_error = 0;
};

class RbmTrainer {
 public:
  // Throws std::invalid_argument for settings out of range (gibbs_steps, chains < 1, rates
  // negative or not finite).
  RbmTrainer(const RbmParameters& initial, VisibleLayout layout, RbmTrainingSettings settings,
             std::uint64_t seed);

  const RbmParameters& parameters() const { return params_; }
  // The learning rate of the following steps (a schedule sets it step by step); throws
  // std::invalid_argument unless it is finite and >= 0.
  void set_learning_rate(double rate);

  // Collective. One gradient step on a minibatch (each entry this rank's visible values of
  // one configuration); `step` numbers the step for the random numbers. Returns the phases.
  RbmPhases step(const std::vector<std::vector<double>>& batch, std::uint64_t step);

 private:
  RbmParameters params_;
  VisibleLayout layout_;
  RbmTrainingSettings settings_;
  std::uint64_t seed_;
  std::vector<RbmState> persistent_;  // PCD chains
  std::vector<double> velocity_w_, velocity_a_, velocity_b_;
};

}  // namespace latdiff
