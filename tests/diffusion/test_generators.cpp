// Generation without Metropolis-Hastings (diffusion/generators.hpp,
// samplers/diffusion_generator.hpp): every step follows its documented formula; samples are
// bitwise the same on every process grid; probability_flow is deterministic given x_N. With the
// exact free-field score the generated covariance of each linear method is, per momentum, the
// one of its documented recursion, and approaches the free field G(p) = 1/K(p) as the number of
// levels grows, while 8 levels leave a bias far outside the errors; predictor_corrector keeps
// the bounded bias of its corrector.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "diffusion/free_field_score.hpp"
#include "diffusion/generators.hpp"
#include "fft/distributed_fft.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "samplers/diffusion_generator.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/white_field.hpp"

namespace latdiff {
namespace {

using testing::gather_global;
using testing::process_grids;
using testing::world_rank;
using testing::world_size;

const std::vector<int> kDims = {8, 8};
// Hopping form kappa = 0.2, lambda = 0: K(p) = 0.4 + 0.4 phat^2, G from 2.5 down to 0.28.
const ActionConfig kFreeField{ActionForm::hopping, 0.2, 0, 1, 0};

constexpr GeneratorMethod kMethods[] = {GeneratorMethod::ancestral, GeneratorMethod::euler_maruyama,
                                        GeneratorMethod::predictor_corrector,
                                        GeneratorMethod::probability_flow};
constexpr NoiseKind kKinds[] = {NoiseKind::vp, NoiseKind::sub_vp, NoiseKind::ve};

const char* name(GeneratorMethod m) {
  switch (m) {
    case GeneratorMethod::ancestral:
      return "ancestral";
    case GeneratorMethod::euler_maruyama:
      return "euler_maruyama";
    case GeneratorMethod::predictor_corrector:
      return "predictor_corrector";
    case GeneratorMethod::probability_flow:
      return "probability_flow";
  }
  return "?";
}

const char* name(NoiseKind k) {
  return k == NoiseKind::vp ? "VP" : k == NoiseKind::ve ? "VE" : "sub-VP";
}

// The same continuous process for every N: beta_max < N for all N >= 8 used here.
NoiseSchedule schedule(NoiseKind kind, int levels) {
  NoiseSchedule s;
  s.kind = kind;
  s.levels = levels;
  s.sigma_min = 0.02;
  s.sigma_max = 5;
  s.beta_min = 0.1;
  s.beta_max = 7.5;
  return s;
}

Field random_field(const Geometry& g, std::uint64_t counter) {
  return testing::white_field(g, 7, counter, 2);
}

void print(const std::string& line) {
  if (world_rank() == 0) std::printf("  %s\n", line.c_str());
}

std::string fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c, d);
  return buf;
}

TEST(Generators, StepsFollowTheirFormulas) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const int n = 10;
  const Field x = random_field(g, 1), s = random_field(g, 2), eta = random_field(g, 3);
  const std::vector<double> xs = gather_global(g, x), ss = gather_global(g, s),
                            es = gather_global(g, eta);
  for (NoiseKind kind : kKinds) {
    const NoiseSchedule sch = schedule(kind, n);
    const NoiseProcess noise(sch);
    for (int i : {1, 4, n}) {
      // beta_i and g_i^2 dt = v_i from the schedule, independently of the process's arrays.
      double beta = 0, v = 0;
      if (kind == NoiseKind::ve) {
        const auto sigma = [&](int l) {
          return sch.sigma_min * std::pow(sch.sigma_max / sch.sigma_min, (l - 1.0) / (n - 1));
        };
        v = sigma(i) * sigma(i) - (i > 1 ? sigma(i - 1) * sigma(i - 1) : 0);
      } else {
        beta = (sch.beta_min + (sch.beta_max - sch.beta_min) * (i - 1.0) / (n - 1)) / n;
        const double ab2 = noise.abar(i - 1) * noise.abar(i - 1), ab2_i = ab2 * (1 - beta);
        v = kind == NoiseKind::vp ? beta : beta * (1 - ab2 * ab2_i);
      }
      EXPECT_NEAR(drift_rate(noise, i), beta, 1e-15) << name(kind) << " level " << i;
      EXPECT_NEAR(noise.v(i), v, 1e-13 * v) << name(kind) << " level " << i;
      Field em = make_field(g), pf = make_field(g);
      euler_maruyama_step(g, noise, i, x, s, eta, em);
      probability_flow_step(g, noise, i, x, s, pf);
      const std::vector<double> ems = gather_global(g, em), pfs = gather_global(g, pf);
      for (std::size_t k = 0; k < xs.size(); ++k) {
        const double drift = xs[k] + beta / 2 * xs[k];
        EXPECT_NEAR(ems[k], drift + v * ss[k] + std::sqrt(v) * es[k], 1e-13)
            << name(kind) << " level " << i;
        EXPECT_NEAR(pfs[k], drift + v / 2 * ss[k], 1e-13) << name(kind) << " level " << i;
      }
    }
  }
  // The corrector's eps from global norms, and its step.
  const double snr = 0.16;
  double zz = 0, sn = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    zz += es[k] * es[k];
    sn += ss[k] * ss[k];
  }
  const double want_eps = 2 * snr * snr * zz / sn;
  Field y = x;
  const double eps = corrector_step(g, snr, s, eta, y);
  EXPECT_NEAR(eps, want_eps, 1e-14 * want_eps);
  const std::vector<double> ys = gather_global(g, y);
  for (std::size_t k = 0; k < xs.size(); ++k)
    EXPECT_NEAR(ys[k], xs[k] + eps * ss[k] + std::sqrt(2 * eps) * es[k], 1e-13);
  // A vanishing score: no step.
  Field zero = make_field(g);
  y = x;
  EXPECT_EQ(corrector_step(g, snr, zero, eta, y), 0.0);
  EXPECT_EQ(y, x);
}

// Sample `index` of a generator on geometry g, gathered.
std::vector<double> generated(const Geometry& g, NoiseKind kind, GeneratorParams params,
                              bool gaussian_prior, std::uint64_t index) {
  const Phi4Model model(g, kFreeField);
  const NoiseProcess noise(schedule(kind, 12));
  FreeFieldScore score(g, model.couplings(), noise);
  if (gaussian_prior) params.gaussian_prior = &score;
  DiffusionGenerator gen(model, g, noise, score, params, 21);
  Field phi = random_field(g, 9);  // overwritten
  const UpdateResult r = gen.update(phi, index);
  EXPECT_EQ(r.acceptance, 1.0);
  EXPECT_TRUE(std::isnan(r.delta_h));
  Field exchanged = phi;
  HaloExchange(g).exchange(exchanged);
  EXPECT_EQ(exchanged, phi) << "halo not current";
  return gather_global(g, phi);
}

TEST(Generators, BitwiseTheSameOnEveryProcessGrid) {
  const Geometry self(kDims, {}, MPI_COMM_SELF);
  const std::vector<std::vector<int>> grids = process_grids(kDims, world_size());
  int c = 0;
  for (NoiseKind kind : kKinds) {
    for (GeneratorMethod method : kMethods) {
      const GeneratorParams params{.method = method, .corrector_steps = 2};
      const bool gaussian = ++c % 2 == 0;
      for (std::uint64_t index : {0, 3}) {
        const std::vector<double> reference = generated(self, kind, params, gaussian, index);
        for (const std::vector<int>& procs : grids) {
          const Geometry g(kDims, procs, MPI_COMM_WORLD);
          const std::vector<double> got = generated(g, kind, params, gaussian, index);
          for (std::size_t k = 0; k < got.size(); ++k)
            ASSERT_EQ(got[k], reference[k]) << name(kind) << " " << name(method) << " grid "
                                            << procs[0] << "x" << procs[1] << " site " << k;
        }
      }
    }
  }
}

TEST(Generators, PredictorCorrectorWithoutCorrectorIsAncestral) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  for (NoiseKind kind : kKinds) {
    const GeneratorParams pc{.method = GeneratorMethod::predictor_corrector, .corrector_steps = 0};
    EXPECT_EQ(generated(g, kind, pc, false, 5), generated(g, kind, {}, false, 5)) << name(kind);
    const GeneratorParams corrected{.method = GeneratorMethod::predictor_corrector};
    EXPECT_NE(generated(g, kind, corrected, false, 5), generated(g, kind, {}, false, 5))
        << name(kind);
  }
}

TEST(Generators, ProbabilityFlowIsDeterministicGivenThePrior) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kFreeField);
  for (NoiseKind kind : kKinds) {
    const NoiseProcess noise(schedule(kind, 16));
    FreeFieldScore score(g, model.couplings(), noise);
    for (GeneratorMethod method : kMethods) {
      const bool deterministic = method == GeneratorMethod::probability_flow;
      DiffusionGenerator gen(model, g, noise, score, {.method = method}, 31);
      DiffusionGenerator other_seed(model, g, noise, score, {.method = method}, 32);
      Field x = make_field(g);
      gen.draw_prior(4, x);
      Field y = x, z = x, phi = make_field(g);
      gen.denoise(x, 4);
      gen.denoise(y, 99);        // other step noise
      other_seed.denoise(z, 4);  // other streams
      gen.update(phi, 4);        // draw_prior + denoise
      EXPECT_EQ(phi, x) << name(kind) << " " << name(method);
      EXPECT_EQ(x == y && x == z, deterministic) << name(kind) << " " << name(method);
    }
  }
}

// The generated covariance per momentum by each linear method's recursion for the exact score
// lambda_i = abar_i^2 G + sbar_i^2: the step x_{i-1} = m_i x_i + sqrt(n_i) eta maps N(0, c_i)
// to N(0, m_i^2 c_i + n_i), from c_N = the prior's variance.
double recursion(const NoiseProcess& noise, GeneratorMethod method, double g, bool gaussian) {
  const auto lambda = [&](int i) { return noise.abar(i) * noise.abar(i) * g + noise.sbar2(i); };
  const int levels = noise.levels();
  double c = gaussian ? lambda(levels) : noise.sbar2(levels);
  for (int i = levels; i >= 1; --i) {
    const double grow = 1 + drift_rate(noise, i) / 2, v = noise.v(i), l = lambda(i);
    double m = 0, var = 0;
    switch (method) {
      case GeneratorMethod::ancestral:
        m = (1 - v / l) / noise.a(i);
        var = noise.reverse_variance(i);
        break;
      case GeneratorMethod::euler_maruyama:
        m = grow - v / l;
        var = v;
        break;
      case GeneratorMethod::probability_flow:
        m = grow - v / (2 * l);
        break;
      case GeneratorMethod::predictor_corrector:
        ADD_FAILURE() << "the corrector is not linear";
    }
    c = m * m * c + var;
  }
  return c;
}

// Means and errors over samples 0 ... n-1 of y(p) = |phi~(p)|^2 / V (expectation: the
// generated covariance at momentum p) and of phi^2 = (1/V) sum_x phi_x^2, and G(p) = 1/K(p).
// Each rank generates every world_size()-th sample on its own single-rank lattice (a sample
// does not depend on the decomposition, BitwiseTheSameOnEveryProcessGrid) and the sums are
// exact, so the result is the same on every number of ranks.
struct Spectrum {
  std::vector<double> mean, error, exact, recursion;
  double phi2 = 0, phi2_error = 0, exact_phi2 = 0, recursion_phi2 = 0;
};

Spectrum generate(NoiseKind kind, int levels, GeneratorParams params, bool gaussian_prior, int n,
                  std::uint64_t seed) {
  const Geometry self(kDims, {}, MPI_COMM_SELF);
  const Phi4Model model(self, kFreeField);
  const NoiseProcess noise(schedule(kind, levels));
  FreeFieldScore score(self, model.couplings(), noise);
  if (gaussian_prior) params.gaussian_prior = &score;
  DiffusionGenerator gen(model, self, noise, score, params, seed);
  DistributedFft fft(self);
  const auto volume = static_cast<std::size_t>(self.global_volume());
  const double inv_v = 1 / static_cast<double>(volume);
  std::vector<ExactSum> sums(2 * volume + 2);  // y(p), y(p)^2 per momentum; phi^2, phi^4
  Field phi = make_field(self);
  ComplexField spectrum;
  for (int k = world_rank(); k < n; k += world_size()) {
    gen.update(phi, static_cast<std::uint64_t>(k));
    fft.forward(phi, spectrum);
    double phi2 = 0;
    for (std::size_t p = 0; p < volume; ++p) {
      const double y = std::norm(spectrum[p]) * inv_v;
      sums[p].add(y);
      sums[volume + p].add(y * y);
      phi2 += y * inv_v;  // Parseval
    }
    sums[2 * volume].add(phi2);
    sums[2 * volume + 1].add(phi2 * phi2);
  }
  allreduce_each(sums, MPI_COMM_WORLD);
  const auto mean_error = [n](const ExactSum& s1, const ExactSum& s2, double& mean, double& error) {
    mean = s1.value() / n;
    error = std::sqrt((s2.value() / n - mean * mean) / (n - 1));
  };
  Spectrum out;
  out.mean.resize(volume);
  out.error.resize(volume);
  for (std::size_t p = 0; p < volume; ++p) {
    mean_error(sums[p], sums[volume + p], out.mean[p], out.error[p]);
    const double g = 1 / score.kernel()[p];
    out.exact.push_back(g);
    out.exact_phi2 += g * inv_v;
    if (params.method != GeneratorMethod::predictor_corrector) {
      out.recursion.push_back(recursion(noise, params.method, g, gaussian_prior));
      out.recursion_phi2 += out.recursion.back() * inv_v;
    }
  }
  mean_error(sums[2 * volume], sums[2 * volume + 1], out.phi2, out.phi2_error);
  return out;
}

// The largest |mean(p) - want(p)| / error(p) over the momenta.
double max_pull(const Spectrum& s, const std::vector<double>& want) {
  double worst = 0;
  for (std::size_t p = 0; p < want.size(); ++p)
    worst = std::max(worst, std::abs(s.mean[p] - want[p]) / s.error[p]);
  return worst;
}

TEST(Generators, LinearMethodsFollowTheirCovarianceRecursion) {
  const int levels = 12, n = 4000;
  std::uint64_t seed = 40;
  for (NoiseKind kind : kKinds) {
    for (GeneratorMethod method : kMethods) {
      if (method == GeneratorMethod::predictor_corrector) continue;
      const bool gaussian = kind != NoiseKind::vp;
      const Spectrum s = generate(kind, levels, {.method = method}, gaussian, n, ++seed);
      const double pull = max_pull(s, s.recursion), bias = max_pull(s, s.exact);
      const double phi2_pull = (s.phi2 - s.recursion_phi2) / s.phi2_error;
      print(std::string(name(kind)) + " " + name(method) +
            fmt(": max pull %.2f vs recursion, %.1f vs G; phi^2 %.5f +- %.5f", pull, bias, s.phi2,
                s.phi2_error) +
            fmt(" vs recursion %.5f (%.2f sigma), G %.5f", s.recursion_phi2, phi2_pull,
                s.exact_phi2));
      EXPECT_LT(pull, 5.0) << name(kind) << " " << name(method);
      EXPECT_LT(std::abs(phi2_pull), 4.0) << name(kind) << " " << name(method);
      // The recursion's discretisation bias is resolved, so this test tells it from G.
      EXPECT_GT(bias, 8.0) << name(kind) << " " << name(method);
    }
  }
}

// With the exact score and prior, 8 levels leave a bias far outside the errors, and 512 levels
// none that the errors resolve, per momentum and in <phi^2>, for every process and linear
// method: the recursion shows that the discretisation bias left at N = 512 (<= 1.5% of
// <phi^2>) is below 2 errors, so 4 errors is a fair tolerance. predictor_corrector does not
// converge in N: its corrector is unadjusted Langevin with a step that follows the field's
// norm, which keeps a bias at any N (O(eps), and O(1/V) per mode from eps depending on x:
// Ito stationary density ~ pi |s|^2). On 8^2 sites that is +5 to +10% of <phi^2>, and hardly
// less at a smaller snr; the test bounds it and checks that it is resolved, so a changed
// corrector shows.
TEST(Generators, ApproachTheFreeFieldAsTheLevelsGrow) {
  std::uint64_t seed = 50;
  for (NoiseKind kind : kKinds) {
    for (GeneratorMethod method : kMethods) {
      const bool pc = method == GeneratorMethod::predictor_corrector;
      const GeneratorParams params{.method = method};
      const Spectrum coarse = generate(kind, 8, params, true, 2000, ++seed);
      const Spectrum fine = generate(kind, 512, params, true, 500, ++seed);
      const double coarse_dev = coarse.phi2 - coarse.exact_phi2;
      const double fine_dev = fine.phi2 - fine.exact_phi2;
      const std::string what = std::string(name(kind)) + " " + name(method);
      print(
          what +
          fmt(": N = 8: max pull %.1f, phi^2 %+.4f (%.1f sigma); N = 512: max pull %.2f,",
              max_pull(coarse, coarse.exact), coarse_dev / coarse.exact_phi2,
              coarse_dev / coarse.phi2_error, max_pull(fine, fine.exact)) +
          fmt(" phi^2 %+.4f (%.2f sigma)", fine_dev / fine.exact_phi2, fine_dev / fine.phi2_error) +
          (pc ? "" : fmt(", recursion %+.4f", fine.recursion_phi2 / fine.exact_phi2 - 1)));
      EXPECT_GT(max_pull(coarse, coarse.exact), 8.0) << what;
      EXPECT_GT(std::abs(coarse_dev), 10 * coarse.phi2_error) << what;
      if (pc) {
        EXPECT_GT(fine_dev, 4 * fine.phi2_error) << what;
        EXPECT_LT(fine_dev, 0.12 * fine.exact_phi2) << what;
        continue;
      }
      EXPECT_LT(max_pull(fine, fine.exact), 5.0) << what;
      EXPECT_LT(std::abs(fine_dev), 4 * fine.phi2_error) << what;
      EXPECT_LT(std::abs(fine_dev), std::abs(coarse_dev) / 4) << what;
      EXPECT_LT(std::abs(fine.recursion_phi2 - fine.exact_phi2), 2 * fine.phi2_error) << what;
    }
  }
}

}  // namespace
}  // namespace latdiff
