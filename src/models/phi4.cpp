#include "models/phi4.hpp"

#include <type_traits>

namespace latdiff {

Phi4Couplings Phi4Couplings::from(const ActionConfig& action, int dim) {
  if (action.form == ActionForm::hopping)
    return {2 * action.kappa, 1 - 2 * action.lambda, action.lambda, action.lambda};
  return {1.0, dim + 0.5 * action.m2, 0.25 * action.g, 0.0};
}

namespace {

// Calls f with the dimension as a compile-time constant, so that neighbour loops unroll and
// row loops vectorise with unit stride.
template <class F>
decltype(auto) with_dim(int dim, F&& f) {
  switch (dim) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
    default:
      return f(std::integral_constant<int, 4>{});
  }
}

// The force -dS/dphi at *p; one expression for force() and add_force(), so they agree bitwise.
template <int D>
struct SiteForce {
  SiteForce(const Geometry& g, const Phi4Couplings& k)
      : two_a(2 * k.a), four_b(4 * k.b), beta(k.beta) {
    for (int mu = 0; mu < D; ++mu) s[mu] = g.stride(mu);
  }
  double operator()(const double* p) const {
    double nb = 0;
    for (int mu = 0; mu < D; ++mu) nb += p[s[mu]] + p[-s[mu]];
    return beta * nb - p[0] * (two_a + four_b * p[0] * p[0]);
  }
  double two_a, four_b, beta;
  std::ptrdiff_t s[D];
};

// Sum over sites of s_x, plus pi_x^2 / 2 in the same term when pi is given.
template <int D>
ExactSum site_sum(const Geometry& g, const Phi4Couplings& k, const Field& phi, const Field* pi) {
  std::ptrdiff_t s[D];
  for (int mu = 0; mu < D; ++mu) s[mu] = g.stride(mu);
  ExactSum sum;
  const int n = g.row_length();
  // s_x at *p, summed left to right so that adding pi_x^2 / 2 last rounds as one expression.
  auto site_action = [&](const double* p) {
    double forward = 0;
    for (int mu = 0; mu < D; ++mu) forward += p[s[mu]];
    const double x2 = p[0] * p[0];
    return -k.beta * p[0] * forward + k.a * x2 + k.b * x2 * x2 + k.c;
  };
  sum.add_rows(g.row_count(), n, [&](std::size_t r, double* __restrict out) {
    const double* __restrict p = phi.data() + g.row_start(r);
    if (pi == nullptr) {
      for (int j = 0; j < n; ++j) out[j] = site_action(p + j);
      return;
    }
    const double* __restrict q = pi->data() + g.row_start(r);
    for (int j = 0; j < n; ++j) out[j] = site_action(p + j) + 0.5 * q[j] * q[j];
  });
  return sum;
}

}  // namespace

ExactSum Phi4Model::action(const Field& phi) const {
  return with_dim(g_.dim(),
                  [&](auto d) { return site_sum<decltype(d)::value>(g_, k_, phi, nullptr); });
}

ExactSum Phi4Model::action_plus_kinetic(const Field& phi, const Field& pi) const {
  return with_dim(g_.dim(), [&](auto d) { return site_sum<decltype(d)::value>(g_, k_, phi, &pi); });
}

void Phi4Model::force(const Field& phi, Field& out) const {
  with_dim(g_.dim(), [&](auto d) {
    const SiteForce<decltype(d)::value> force(g_, k_);
    const int n = g_.row_length();
    for (std::size_t r = 0; r < g_.row_count(); ++r) {
      const double* __restrict p = phi.data() + g_.row_start(r);
      double* __restrict f = out.data() + g_.row_start(r);
      for (int j = 0; j < n; ++j) f[j] = force(p + j);
    }
  });
}

void Phi4Model::add_force(const Field& phi, Field& pi, double dt,
                          std::span<const RowSegment> segments) const {
  with_dim(g_.dim(), [&](auto d) {
    const SiteForce<decltype(d)::value> force(g_, k_);
    for (const RowSegment& segment : segments) {
      const double* __restrict p = phi.data() + segment.start;
      double* __restrict q = pi.data() + segment.start;
      for (int j = 0; j < segment.length; ++j) q[j] += dt * force(p + j);
    }
  });
}

}  // namespace latdiff
