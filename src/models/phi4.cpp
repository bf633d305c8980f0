#include "models/phi4.hpp"

namespace latdiff {

Phi4Couplings Phi4Couplings::from(const ActionConfig& action, int dim) {
  if (action.form == ActionForm::hopping)
    return {2 * action.kappa, 1 - 2 * action.lambda, action.lambda, action.lambda};
  return {1.0, dim + 0.5 * action.m2, 0.25 * action.g, 0.0};
}

ExactSum Phi4Model::action(const Field& phi) const {
  ExactSum s;
  const int n = g_.row_length();
  for (std::size_t r = 0; r < g_.row_count(); ++r) {
    const double* p = phi.data() + g_.row_start(r);
    for (int j = 0; j < n; ++j) {
      double forward = 0;
      for (int mu = 0; mu < g_.dim(); ++mu) forward += p[j + g_.stride(mu)];
      const double x2 = p[j] * p[j];
      s.add(-k_.beta * p[j] * forward + k_.a * x2 + k_.b * x2 * x2 + k_.c);
    }
  }
  return s;
}

namespace {

// One fused pass per row with the dimension known at compile time, so the neighbour sum is
// unrolled and the loop vectorises with unit stride.
template <int D>
void force_rows(const Geometry& g, const Phi4Couplings& k, const Field& phi, Field& out) {
  const int n = g.row_length();
  const double two_a = 2 * k.a, four_b = 4 * k.b, beta = k.beta;
  std::ptrdiff_t s[D];
  for (int mu = 0; mu < D; ++mu) s[mu] = g.stride(mu);
  for (std::size_t r = 0; r < g.row_count(); ++r) {
    const double* __restrict p = phi.data() + g.row_start(r);
    double* __restrict f = out.data() + g.row_start(r);
    for (int j = 0; j < n; ++j) {
      double nb = 0;
      for (int mu = 0; mu < D; ++mu) nb += p[j + s[mu]] + p[j - s[mu]];
      f[j] = beta * nb - p[j] * (two_a + four_b * p[j] * p[j]);
    }
  }
}

}  // namespace

void Phi4Model::force(const Field& phi, Field& out) const {
  switch (g_.dim()) {
    case 1:
      return force_rows<1>(g_, k_, phi, out);
    case 2:
      return force_rows<2>(g_, k_, phi, out);
    case 3:
      return force_rows<3>(g_, k_, phi, out);
    default:
      return force_rows<4>(g_, k_, phi, out);
  }
}

}  // namespace latdiff
