// The exact free-field score, log density and sampler of a noise level against dense linear
// algebra on small lattices (covariance C_i = abar_i^2 K^{-1} + sbar_i^2 I built from the
// couplings in position space), for both action forms and an interacting theory's quadratic
// part; bitwise the same on every process grid.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "diffusion/free_field_score.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/white_field.hpp"

namespace latdiff {
namespace {

using testing::gather_global;
using testing::process_grids;
using testing::row_major_coords;
using testing::row_major_index;
using Matrix = std::vector<std::vector<double>>;

// K of S_2 = (1/2) phi^T K phi in position space (models/phi4.hpp internal form).
Matrix quadratic_kernel(const std::vector<int>& dims, const Phi4Couplings& k) {
  std::int64_t v = 1;
  for (int l : dims) v *= l;
  Matrix m(v, std::vector<double>(v, 0.0));
  for (std::int64_t x = 0; x < v; ++x) {
    m[x][x] += 2 * k.a;
    for (std::size_t mu = 0; mu < dims.size(); ++mu) {
      std::vector<int> c = row_major_coords(x, dims);
      ++c[mu];
      const std::int64_t y = row_major_index(c, dims);
      m[x][y] -= k.beta;
      m[y][x] -= k.beta;
    }
  }
  return m;
}

// Inverse and log determinant by Gauss-Jordan elimination with partial pivoting.
Matrix inverse(Matrix a, double* log_det = nullptr) {
  const std::size_t n = a.size();
  Matrix inv(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) inv[i][i] = 1;
  double ld = 0;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r][c]) > std::abs(a[piv][c])) piv = r;
    std::swap(a[c], a[piv]);
    std::swap(inv[c], inv[piv]);
    const double d = a[c][c];
    ld += std::log(std::abs(d));
    for (std::size_t j = 0; j < n; ++j) {
      a[c][j] /= d;
      inv[c][j] /= d;
    }
    for (std::size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r][c];
      for (std::size_t j = 0; j < n; ++j) {
        a[r][j] -= f * a[c][j];
        inv[r][j] -= f * inv[c][j];
      }
    }
  }
  if (log_det) *log_det = ld;
  return inv;
}

std::vector<double> times(const Matrix& m, const std::vector<double>& x) {
  std::vector<double> y(x.size(), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = 0; j < x.size(); ++j) y[i] += m[i][j] * x[j];
  return y;
}

Field random_field(const Geometry& g, std::uint64_t counter) {
  return testing::white_field(g, 7, counter, 1);
}

struct Case {
  const char* name;
  ActionConfig action;
  std::vector<int> dims;
};

std::vector<Case> cases() {
  ActionConfig hopping;
  hopping.form = ActionForm::hopping;
  hopping.kappa = 0.1;
  ActionConfig interacting = hopping;  // its quadratic part: a = 1 - 2 lambda
  interacting.kappa = 0.05;
  interacting.lambda = 0.3;
  ActionConfig mass;
  mass.form = ActionForm::mass;
  mass.m2 = 0.5;
  return {{"hopping free field", hopping, {4, 6}},
          {"interacting, quadratic part", interacting, {4, 6}},
          {"mass form free field 3D", mass, {2, 4, 3}}};
}

NoiseSchedule vp_schedule() {
  NoiseSchedule s;
  s.kind = NoiseKind::vp;
  s.levels = 6;
  s.beta_max = 5;
  return s;
}

TEST(FreeFieldScore, MatchesDenseLinearAlgebra) {
  const NoiseProcess noise(vp_schedule());
  for (const Case& c : cases()) {
    const Geometry g(c.dims, {}, MPI_COMM_WORLD);
    const Phi4Couplings k = Phi4Couplings::from(c.action, g.dim());
    FreeFieldScore model(g, k, noise);
    const Matrix g_inv = quadratic_kernel(c.dims, k);
    const Matrix cov0 = inverse(g_inv);
    const Field x = random_field(g, 1), eta = random_field(g, 2);
    const std::vector<double> xs = gather_global(g, x), etas = gather_global(g, eta);
    for (int level : {0, 1, 3, 6}) {
      Matrix cov = cov0;
      for (std::size_t i = 0; i < cov.size(); ++i) {
        for (double& e : cov[i]) e *= noise.abar(level) * noise.abar(level);
        cov[i][i] += noise.sbar2(level);
      }
      double log_det = 0;
      const Matrix prec = inverse(cov, &log_det);
      const std::vector<double> want = times(prec, xs);
      Field s = make_field(g);
      model.score(x, level, s);
      const std::vector<double> got = gather_global(g, s);
      double scale = 0, quad = 0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        scale = std::max(scale, std::abs(want[i]));
        quad += xs[i] * want[i];
      }
      for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(got[i], -want[i], 1e-11 * scale) << c.name << " level " << level;
      const double n = static_cast<double>(xs.size());
      ExactSum ld = model.log_density(x, level);
      ld.allreduce(g.comm());
      const double log_density = -0.5 * quad - 0.5 * (n * std::log(2 * std::numbers::pi) + log_det);
      EXPECT_NEAR(ld.value(), log_density, 1e-10 * std::abs(log_density)) << c.name << level;
      // x = C^{1/2} eta has x^T C^{-1} x = eta^T eta.
      Field y = make_field(g);
      model.sample(eta, level, y);
      const std::vector<double> ys = gather_global(g, y), py = times(prec, ys);
      double yy = 0, ee = 0;
      for (std::size_t i = 0; i < ys.size(); ++i) {
        yy += ys[i] * py[i];
        ee += etas[i] * etas[i];
      }
      EXPECT_NEAR(yy, ee, 1e-10 * ee) << c.name << " level " << level;
    }
  }
}

TEST(FreeFieldScore, BitwiseTheSameOnEveryProcessGrid) {
  const NoiseProcess noise(vp_schedule());
  const Case c = cases()[0];
  const Phi4Couplings k = Phi4Couplings::from(c.action, 2);
  const std::vector<int> dims{8, 6};
  std::vector<double> reference;
  {
    const Geometry self(dims, {}, MPI_COMM_SELF);
    FreeFieldScore model(self, k, noise);
    Field s = make_field(self);
    model.score(random_field(self, 3), 2, s);
    reference = gather_global(self, s);
  }
  for (const std::vector<int>& procs : process_grids(dims, testing::world_size())) {
    const Geometry g(dims, procs, MPI_COMM_WORLD);
    FreeFieldScore model(g, k, noise);
    Field s = make_field(g);
    model.score(random_field(g, 3), 2, s);
    const std::vector<double> got = gather_global(g, s);
    for (std::size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], reference[i]) << "grid " << procs[0] << "x" << procs[1] << " site " << i;
  }
}

TEST(FreeFieldScore, RefusesAQuadraticPartThatIsNotPositive) {
  const NoiseProcess noise(vp_schedule());
  ActionConfig broken;
  broken.form = ActionForm::hopping;
  broken.kappa = 0.3;  // with lambda = 0.5: a = 0, K(0) < 0
  broken.lambda = 0.5;
  const Geometry g({4, 6}, {}, MPI_COMM_WORLD);
  EXPECT_THROW(FreeFieldScore(g, Phi4Couplings::from(broken, 2), noise), std::invalid_argument);
}

}  // namespace
}  // namespace latdiff
