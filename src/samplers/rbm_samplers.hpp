// Samplers of RBMs (models/rbm.hpp) whose state is the visible layer v (distributed, local
// order) and the hidden layer h (replicated):
//   RbmGibbs    block Gibbs sweeps h ~ p(h | v), then v ~ p(v | h): exact for the joint
//               p(v, h), so v alone is distributed as p(v). Any unit kinds.
//   RbmFlipMh   single-flip Metropolis on p(v) ~ exp(-F(v)) for binary or spin visible units:
//               every visible unit in global order proposes its other value and is accepted
//               with min(1, exp(-dF)); h is left as it is (sample it with RbmGibbs if needed).
// Random numbers are counter-based per (unit, update), and every sum over visible units is
// exact, so chains are bitwise the same on any number of ranks. Both updates are collective.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/rbm.hpp"
#include "random/counter_rng.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct RbmState {
  std::vector<double> v;  // this rank's visible units (Rbm::layout order)
  std::vector<double> h;  // every hidden unit
};

class RbmGibbs {
 public:
  RbmGibbs(const Rbm& rbm, std::uint64_t seed)
      : rbm_(rbm),
        hidden_rng_(seed, Stream::rbm_gibbs_hidden),
        visible_rng_(seed, Stream::rbm_gibbs_visible) {}

  // Collective. One sweep; acceptance 1.
  UpdateResult update(RbmState& s, std::uint64_t update_index) const;
  // Collective. h ~ p(h | v) alone (the positive phase of training).
  void sample_hidden(RbmState& s, std::uint64_t update_index) const;
  // Replicated. The same with the hidden inputs c = Rbm::hidden_input(s.v) already at hand.
  void sample_hidden(RbmState& s, std::span<const double> c, std::uint64_t update_index) const;
  // Local. v ~ p(v | h) alone.
  void sample_visible(RbmState& s, std::uint64_t update_index) const;

 private:
  const Rbm& rbm_;
  CounterRng hidden_rng_, visible_rng_;
};

class RbmFlipMh {
 public:
  // Throws std::invalid_argument for Gaussian visible units.
  RbmFlipMh(const Rbm& rbm, std::uint64_t seed);

  // Collective. One sweep over all visible units; acceptance = accepted flips / n_visible.
  UpdateResult update(RbmState& s, std::uint64_t update_index) const;

 private:
  const Rbm& rbm_;
  CounterRng rng_;
};

}  // namespace latdiff
