#include "models/rbm_partition.hpp"

#include <mpi.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "lattice/exact_sum.hpp"

namespace latdiff {

namespace {

// The term of one state of the enumerated layer, given w = (the other layer's inputs from
// this layer's couplings only, without biases) and the enumerated layer's own bias term.
struct Terms {
  const RbmParameters& p;
  bool hidden;  // enumerating h: w_i = (W h)_i; enumerating v: w_j = (W^T v)_j

  double of(const std::vector<double>& w, double own_bias) const {
    double t = own_bias;
    if (hidden) {
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (p.visible_units == RbmUnits::gaussian) {
          const double s = p.visible_sigma[i], mu = p.visible_bias[i];
          t += std::log(std::sqrt(2 * std::numbers::pi) * s) + mu * w[i] / (s * s) +
               w[i] * w[i] / (2 * s * s);
        } else {
          t += Rbm::log_partition(p.visible_units, p.visible_bias[i] + w[i]);
        }
      }
    } else {
      for (std::size_t j = 0; j < w.size(); ++j)
        t += Rbm::log_partition(p.hidden_units, p.hidden_bias[j] + w[j]);
    }
    return t;
  }
};

// Coupling of enumerated unit k to unit m of the other layer.
double coupling(const RbmParameters& p, bool hidden, std::int64_t k, std::int64_t m) {
  return hidden ? p.weights[m * p.n_hidden + k] : p.weights[k * p.n_hidden + m];
}

}  // namespace

EnumeratedLayer enumerated_layer(const RbmParameters& p) {
  const bool visible_ok = p.visible_units != RbmUnits::gaussian;
  if (visible_ok && p.n_visible < p.n_hidden) return {false, p.n_visible};
  return {true, p.n_hidden};
}

double exact_log_partition(const Rbm& rbm) {
  const RbmParameters& p = rbm.parameters();
  const EnumeratedLayer layer = enumerated_layer(p);
  if (layer.units > kRbmMaxEnumerated)
    throw std::invalid_argument("rbm: exact log Z enumerates 2^" + std::to_string(layer.units) +
                                " states of the " + (layer.hidden ? "hidden" : "visible") +
                                " layer; at most 2^" + std::to_string(kRbmMaxEnumerated) +
                                " (use annealed importance sampling)");
  const RbmUnits units = layer.hidden ? p.hidden_units : p.visible_units;
  const std::vector<double>& own_bias = layer.hidden ? p.hidden_bias : p.visible_bias;
  const std::int64_t n_other = layer.hidden ? p.n_visible : p.n_hidden;
  const Terms terms{p, layer.hidden};
  const double on = Rbm::on_value(units), off = Rbm::off_value(units);

  int rank = 0, size = 1;
  MPI_Comm_rank(rbm.layout().comm, &rank);
  MPI_Comm_size(rbm.layout().comm, &size);
  const std::int64_t states = std::int64_t{1} << layer.units;
  const std::int64_t chunks = (states + kRbmEnumerationChunk - 1) / kRbmEnumerationChunk;

  std::vector<double> values;  // this rank's terms, chunk by chunk
  std::vector<double> w(static_cast<std::size_t>(n_other));
  std::vector<double> state(static_cast<std::size_t>(layer.units));
  for (std::int64_t chunk = rank; chunk < chunks; chunk += size) {
    const std::int64_t first = chunk * kRbmEnumerationChunk;
    const std::int64_t last = std::min(states, first + kRbmEnumerationChunk);
    // The chunk's first state (Gray code of `first`) from scratch.
    const std::uint64_t gray = static_cast<std::uint64_t>(first ^ (first >> 1));
    double bias_term = 0;
    std::fill(w.begin(), w.end(), 0.0);
    for (std::int64_t k = 0; k < layer.units; ++k) {
      state[k] = (gray >> k) & 1 ? on : off;
      bias_term += own_bias[k] * state[k];
      if (state[k] != 0)
        for (std::int64_t m = 0; m < n_other; ++m)
          w[m] += state[k] * coupling(p, layer.hidden, k, m);
    }
    values.push_back(terms.of(w, bias_term));
    for (std::int64_t s = first + 1; s < last; ++s) {
      const int k = std::countr_zero(static_cast<std::uint64_t>(s));  // the Gray-code flip
      const double change = (state[k] == on ? off : on) - state[k];
      state[k] += change;
      bias_term += own_bias[k] * change;
      for (std::int64_t m = 0; m < n_other; ++m) w[m] += change * coupling(p, layer.hidden, k, m);
      values.push_back(terms.of(w, bias_term));
    }
  }
  double top = -std::numeric_limits<double>::infinity();
  for (double v : values) top = std::max(top, v);
  MPI_Allreduce(MPI_IN_PLACE, &top, 1, MPI_DOUBLE, MPI_MAX, rbm.layout().comm);
  ExactSum sum;
  for (double v : values) sum.add(std::exp(v - top));
  sum.allreduce(rbm.layout().comm);
  return top + std::log(sum.value());
}

}  // namespace latdiff
