#include "training/rbm_training.hpp"

#include <mpi.h>

#include <cmath>
#include <stdexcept>

#include "lattice/exact_sum.hpp"

namespace latdiff {

namespace {

// Collective: every rank's entries of a vector indexed by global visible unit (zero
// elsewhere) summed, i.e. the rows each rank owns, now on every rank.
void share(std::vector<double>& rows, MPI_Comm comm) {
  MPI_Allreduce(MPI_IN_PLACE, rows.data(), static_cast<int>(rows.size()), MPI_DOUBLE, MPI_SUM,
                comm);
}

// Collective. Sum over the states of sum_i (v_i - E[v_i | h])^2.
double reconstruction_error(const Rbm& rbm, const std::vector<RbmState>& states) {
  const RbmUnits units = rbm.parameters().visible_units;
  ExactSum sum;
  for (const RbmState& s : states) {
    const std::vector<double> x = rbm.visible_input(s.h);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double mean = Rbm::mean_value(units, x[i]);
      sum.add((s.v[i] - mean) * (s.v[i] - mean));
    }
  }
  sum.allreduce(rbm.layout().comm);
  return sum.value();
}

// Sums of -dE/dtheta over a set of visible configurations with hidden expectations, for this
// rank's rows of W and a (indexed globally), and for b.
struct Statistics {
  std::vector<double> w, a, b;

  Statistics(const RbmParameters& p)
      : w(p.weights.size(), 0.0), a(p.visible_bias.size(), 0.0), b(p.hidden_bias.size(), 0.0) {}

  void add(const Rbm& rbm, const std::vector<double>& v, const std::vector<double>& mean_h) {
    const RbmParameters& p = rbm.parameters();
    const auto nh = static_cast<std::size_t>(p.n_hidden);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto gi = static_cast<std::size_t>(rbm.layout().global_index[i]);
      const double x = rbm.coupled(i, v[i]);
      for (std::size_t j = 0; j < nh; ++j) w[gi * nh + j] += x * mean_h[j];
      a[gi] += p.visible_units == RbmUnits::gaussian ? rbm.coupled(i, v[i] - rbm.bias(i)) : v[i];
    }
    for (std::size_t j = 0; j < nh; ++j) b[j] += mean_h[j];
  }
};

}  // namespace

RbmTrainer::RbmTrainer(const RbmParameters& initial, VisibleLayout layout,
                       RbmTrainingSettings settings, std::uint64_t seed)
    : params_(initial), layout_(std::move(layout)), settings_(settings), seed_(seed) {
  params_.check();
  const RbmTrainingSettings& s = settings_;
  if (s.gibbs_steps < 1 || s.chains < 1)
    throw std::invalid_argument("rbm training: gibbs_steps and chains must be at least 1");
  for (double x : {s.learning_rate, s.momentum, s.weight_decay})
    if (!(x >= 0) || !std::isfinite(x))
      throw std::invalid_argument(
          "rbm training: learning rate, momentum and weight decay "
          "must be finite and >= 0");
  velocity_w_.assign(params_.weights.size(), 0.0);
  velocity_a_.assign(params_.visible_bias.size(), 0.0);
  velocity_b_.assign(params_.hidden_bias.size(), 0.0);
}

void RbmTrainer::set_learning_rate(double rate) {
  if (!(rate >= 0) || !std::isfinite(rate))
    throw std::invalid_argument("rbm training: the learning rate must be finite and >= 0");
  settings_.learning_rate = rate;
}

RbmPhases RbmTrainer::step(const std::vector<std::vector<double>>& batch, std::uint64_t step) {
  if (batch.empty()) throw std::invalid_argument("rbm training: empty minibatch");
  const Rbm rbm(params_, layout_);
  const RbmGibbs gibbs(rbm, seed_);
  // Update numbers of the Gibbs draws: distinct for every configuration and sweep, 2^32 per
  // training step.
  std::uint64_t draw = step << 32;

  RbmPhases phases;
  Statistics positive(params_), negative(params_);
  for (const std::vector<double>& v : batch) {
    RbmState s{v, {}};
    const std::vector<double> c = rbm.hidden_input(v);
    gibbs.sample_hidden(s, c, draw++);
    positive.add(rbm, v, rbm.hidden_mean(c));
    phases.positive_energy.push_back(rbm.energy(s.v, s.h));
    phases.positive.push_back(std::move(s));
  }
  phases.reconstruction_error = reconstruction_error(rbm, phases.positive);
  if (settings_.persistent && persistent_.empty())
    for (int k = 0; k < settings_.chains; ++k)
      persistent_.push_back(phases.positive[k % phases.positive.size()]);
  std::vector<RbmState> chains = settings_.persistent ? persistent_ : phases.positive;
  for (RbmState& s : chains) {
    for (int t = 0; t < settings_.gibbs_steps; ++t) gibbs.update(s, draw++);
    negative.add(rbm, s.v, rbm.hidden_mean(rbm.hidden_input(s.v)));
    phases.negative_energy.push_back(rbm.energy(s.v, s.h));
  }
  if (settings_.persistent) persistent_ = chains;
  phases.negative = chains;

  // Gradient of this rank's rows, then every rank gets every row.
  const double n_pos = static_cast<double>(batch.size()),
               n_neg = static_cast<double>(chains.size());
  const double lr = settings_.learning_rate, mom = settings_.momentum;
  std::vector<double> dw(params_.weights.size(), 0.0), da(params_.visible_bias.size(), 0.0);
  const auto nh = static_cast<std::size_t>(params_.n_hidden);
  for (std::int64_t gi64 : layout_.global_index) {
    const auto gi = static_cast<std::size_t>(gi64);
    for (std::size_t j = 0; j < nh; ++j) {
      const std::size_t k = gi * nh + j;
      dw[k] = lr * (positive.w[k] / n_pos - negative.w[k] / n_neg) -
              lr * settings_.weight_decay * params_.weights[k];
    }
    da[gi] = lr * (positive.a[gi] / n_pos - negative.a[gi] / n_neg);
  }
  share(dw, layout_.comm);
  share(da, layout_.comm);
  for (std::size_t k = 0; k < dw.size(); ++k) {
    velocity_w_[k] = mom * velocity_w_[k] + dw[k];
    params_.weights[k] += velocity_w_[k];
  }
  for (std::size_t i = 0; i < da.size(); ++i) {
    velocity_a_[i] = mom * velocity_a_[i] + da[i];
    params_.visible_bias[i] += velocity_a_[i];
  }
  for (std::size_t j = 0; j < nh; ++j) {
    velocity_b_[j] = mom * velocity_b_[j] + lr * (positive.b[j] / n_pos - negative.b[j] / n_neg);
    params_.hidden_bias[j] += velocity_b_[j];
  }
  return phases;
}

}  // namespace latdiff
