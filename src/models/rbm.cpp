#include "models/rbm.hpp"

#include <cmath>
#include <stdexcept>

#include "lattice/exact_sum.hpp"

namespace latdiff {

std::string to_string(RbmUnits u) {
  switch (u) {
    case RbmUnits::binary:
      return "binary";
    case RbmUnits::spin:
      return "spin";
    case RbmUnits::gaussian:
      return "gaussian";
  }
  return "unknown";
}

void RbmParameters::check() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("rbm: " + what); };
  if (n_visible < 1 || n_hidden < 1) fail("needs at least one visible and one hidden unit");
  if (hidden_units == RbmUnits::gaussian) fail("hidden units must be binary or spin");
  const auto nv = static_cast<std::size_t>(n_visible), nh = static_cast<std::size_t>(n_hidden);
  if (weights.size() != nv * nh)
    fail("weights have " + std::to_string(weights.size()) +
         " entries, n_visible x n_hidden = " + std::to_string(nv * nh));
  if (visible_bias.size() != nv) fail("visible bias needs n_visible entries");
  if (hidden_bias.size() != nh) fail("hidden bias needs n_hidden entries");
  const bool gaussian = visible_units == RbmUnits::gaussian;
  if (gaussian && visible_sigma.size() != nv) fail("Gaussian units need n_visible sigmas");
  if (!gaussian && !visible_sigma.empty()) fail("sigmas are for Gaussian visible units only");
  for (double s : visible_sigma)
    if (!(s > 0) || !std::isfinite(s)) fail("every sigma must be finite and > 0");
  for (const auto* v : {&weights, &visible_bias, &hidden_bias})
    for (double x : *v)
      if (!std::isfinite(x)) fail("parameters must be finite");
}

VisibleLayout VisibleLayout::blocks(std::int64_t n, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  VisibleLayout l{n, {}, comm};
  const std::int64_t begin = n * rank / size, end = n * (rank + 1) / size;
  for (std::int64_t i = begin; i < end; ++i) l.global_index.push_back(i);
  return l;
}

VisibleLayout VisibleLayout::lattice(const Geometry& g) {
  VisibleLayout l{g.global_volume(), {}, g.comm()};
  for_each_site(g, [&](std::size_t, std::int64_t gi) { l.global_index.push_back(gi); });
  return l;
}

Rbm::Rbm(const RbmParameters& p, VisibleLayout layout) : p_(p), layout_(std::move(layout)) {
  p_.check();
  if (layout_.global_size != p_.n_visible)
    throw std::invalid_argument("rbm: the model has " + std::to_string(p_.n_visible) +
                                " visible units, the layout " +
                                std::to_string(layout_.global_size));
  if (p_.visible_units == RbmUnits::gaussian)
    for (std::int64_t gi : layout_.global_index)
      inv_var_.push_back(1.0 / (p_.visible_sigma[gi] * p_.visible_sigma[gi]));
}

std::vector<double> Rbm::hidden_input(std::span<const double> v) const {
  const auto nh = static_cast<std::size_t>(p_.n_hidden);
  std::vector<ExactSum> c(nh);
  int rank = 0;
  MPI_Comm_rank(layout_.comm, &rank);
  if (rank == 0)  // the biases once, not once per rank
    for (std::size_t j = 0; j < nh; ++j) c[j].add(p_.hidden_bias[j]);
  for (std::size_t i = 0; i < local_visible(); ++i) {
    const double x = coupled(i, v[i]);
    if (x == 0) continue;
    const auto w = row(i);
    for (std::size_t j = 0; j < nh; ++j) c[j].add(x * w[j]);
  }
  allreduce_each(c, layout_.comm);
  std::vector<double> out(nh);
  for (std::size_t j = 0; j < nh; ++j) out[j] = c[j].value();
  return out;
}

double Rbm::row_dot(std::size_t i, std::span<const double> h) const {
  const auto w = row(i);
  double x = 0;
  for (std::size_t j = 0; j < w.size(); ++j) x += w[j] * h[j];
  return x;
}

std::vector<double> Rbm::visible_input(std::span<const double> h) const {
  std::vector<double> out(local_visible());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = bias(i) + row_dot(i, h);
  return out;
}

double Rbm::log_partition(RbmUnits units, double x) {
  if (units == RbmUnits::spin) {
    const double ax = std::abs(x);  // log(2 cosh x) = |x| + log(1 + e^{-2|x|})
    return ax + std::log1p(std::exp(-2 * ax));
  }
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));  // softplus
}

double Rbm::probability_on(RbmUnits units, double x) {
  const double y = units == RbmUnits::spin ? 2 * x : x;
  return y >= 0 ? 1.0 / (1.0 + std::exp(-y)) : std::exp(y) / (1.0 + std::exp(y));
}

double Rbm::hidden_free_energy(std::span<const double> c) const {
  double f = 0;  // replicated values in a fixed order: the same on every rank
  for (double x : c) f -= log_partition(p_.hidden_units, x);
  return f;
}

double Rbm::mean_value(RbmUnits units, double x) {
  switch (units) {
    case RbmUnits::binary:
      return probability_on(units, x);
    case RbmUnits::spin:
      return std::tanh(x);
    case RbmUnits::gaussian:
      return x;
  }
  return x;
}

std::vector<double> Rbm::hidden_mean(std::span<const double> c) const {
  std::vector<double> mean(c.size());
  for (std::size_t j = 0; j < c.size(); ++j) mean[j] = mean_value(p_.hidden_units, c[j]);
  return mean;
}

void Rbm::force(std::span<const double> v, std::span<double> out) const {
  const std::vector<double> m = hidden_mean(hidden_input(v));
  for (std::size_t i = 0; i < local_visible(); ++i) {
    const double wm = row_dot(i, m);
    out[i] = p_.visible_units == RbmUnits::gaussian ? (wm - (v[i] - bias(i))) * inv_var_[i]
                                                    : bias(i) + wm;
  }
}

double Rbm::free_energy(std::span<const double> v) const {
  ExactSum visible;
  for (std::size_t i = 0; i < local_visible(); ++i) {
    if (p_.visible_units == RbmUnits::gaussian) {
      const double d = v[i] - bias(i);
      visible.add(0.5 * d * d * inv_var_[i]);
    } else {
      visible.add(-bias(i) * v[i]);
    }
  }
  visible.allreduce(layout_.comm);
  return visible.value() + hidden_free_energy(hidden_input(v));
}

double Rbm::energy(std::span<const double> v, std::span<const double> h) const {
  ExactSum e;
  for (std::size_t i = 0; i < local_visible(); ++i) {
    const double wh = row_dot(i, h);
    if (p_.visible_units == RbmUnits::gaussian) {
      const double d = v[i] - bias(i);
      e.add(0.5 * d * d * inv_var_[i] - v[i] * wh * inv_var_[i]);
    } else {
      e.add(-v[i] * (bias(i) + wh));
    }
  }
  e.allreduce(layout_.comm);
  double hidden = 0;
  for (std::size_t j = 0; j < h.size(); ++j) hidden -= p_.hidden_bias[j] * h[j];
  return e.value() + hidden;
}

}  // namespace latdiff
