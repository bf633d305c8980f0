#include "samplers/rbm_samplers.hpp"

#include <mpi.h>

#include <cmath>
#include <stdexcept>

namespace latdiff {

void RbmGibbs::sample_hidden(RbmState& s, std::uint64_t update_index) const {
  sample_hidden(s, rbm_.hidden_input(s.v), update_index);
}

void RbmGibbs::sample_hidden(RbmState& s, std::span<const double> c,
                             std::uint64_t update_index) const {
  const RbmUnits units = rbm_.parameters().hidden_units;
  s.h.resize(c.size());
  for (std::size_t j = 0; j < c.size(); ++j) {
    const double u = hidden_rng_.uniform(j, update_index);
    s.h[j] = u < Rbm::probability_on(units, c[j]) ? Rbm::on_value(units) : Rbm::off_value(units);
  }
}

void RbmGibbs::sample_visible(RbmState& s, std::uint64_t update_index) const {
  const RbmUnits units = rbm_.parameters().visible_units;
  const std::vector<double> x = rbm_.visible_input(s.h);
  s.v.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto gi = static_cast<std::uint64_t>(rbm_.layout().global_index[i]);
    if (units == RbmUnits::gaussian) {
      s.v[i] = x[i] + rbm_.sigma(i) * visible_rng_.normal4(gi, update_index)[0];
    } else {
      const double u = visible_rng_.uniform(gi, update_index);
      s.v[i] = u < Rbm::probability_on(units, x[i]) ? Rbm::on_value(units) : Rbm::off_value(units);
    }
  }
}

UpdateResult RbmGibbs::update(RbmState& s, std::uint64_t update_index) const {
  sample_hidden(s, update_index);
  sample_visible(s, update_index);
  return {1.0};
}

RbmFlipMh::RbmFlipMh(const Rbm& rbm, std::uint64_t seed) : rbm_(rbm), rng_(seed, Stream::rbm_flip) {
  if (rbm.parameters().visible_units == RbmUnits::gaussian)
    throw std::invalid_argument("rbm: single-flip Metropolis needs binary or spin visible units");
}

UpdateResult RbmFlipMh::update(RbmState& s, std::uint64_t update_index) const {
  const RbmParameters& p = rbm_.parameters();
  const auto nv = static_cast<std::size_t>(p.n_visible), nh = static_cast<std::size_t>(p.n_hidden);
  // Every rank runs the whole sweep on the whole layer, in global order and with the same
  // numbers, so the flips are decided alike everywhere without a message per unit.
  std::vector<double> all(nv, 0.0);
  for (std::size_t i = 0; i < s.v.size(); ++i) all[rbm_.layout().global_index[i]] = s.v[i];
  MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(nv), MPI_DOUBLE, MPI_SUM,
                rbm_.layout().comm);
  std::vector<double> c = rbm_.hidden_input(s.v);
  const RbmUnits units = p.visible_units;
  std::int64_t accepted = 0;
  for (std::size_t g = 0; g < nv; ++g) {
    const double flipped =
        all[g] == Rbm::on_value(units) ? Rbm::off_value(units) : Rbm::on_value(units);
    const double dv = flipped - all[g];
    const double* w = p.weights.data() + g * nh;
    double df = -p.visible_bias[g] * dv;
    for (std::size_t j = 0; j < nh; ++j)
      df -= Rbm::log_partition(p.hidden_units, c[j] + w[j] * dv) -
            Rbm::log_partition(p.hidden_units, c[j]);
    const double u = rng_.uniform(g, update_index);
    if (df <= 0 || u < std::exp(-df)) {
      all[g] = flipped;
      for (std::size_t j = 0; j < nh; ++j) c[j] += w[j] * dv;
      ++accepted;
    }
  }
  for (std::size_t i = 0; i < s.v.size(); ++i) s.v[i] = all[rbm_.layout().global_index[i]];
  return {static_cast<double>(accepted) / static_cast<double>(nv)};
}

}  // namespace latdiff
