// The diffusion Metropolis-Hastings samplers are exact whatever the score: with the exact
// free-field score they reproduce the free field and their acceptance rises towards 1 as the
// number of levels grows; with deliberately poor scores (a scaled exact score, or the free-field
// score of the quadratic part on interacting phi^4) they still reproduce the exact values,
// at lower acceptance (DESIGN.md §4, §7).
#include <gtest/gtest.h>

#include <cstdio>

#include "chain.hpp"
#include "diffusion/free_field_score.hpp"
#include "models/phi4.hpp"
#include "samplers/diffusion_mh.hpp"

namespace latdiff {
namespace {

using testing::expect_agrees;
using testing::site_average;

constexpr double kM2 = 0.5;
const std::vector<int> kDims = {6, 6};
const ActionConfig kFreeField{ActionForm::mass, 0, 0, kM2, 0};

NoiseSchedule vp(int levels) {
  NoiseSchedule s;
  s.kind = NoiseKind::vp;
  s.levels = levels;
  s.beta_min = 0.1;
  s.beta_max = std::min(12.0, 0.5 * levels);
  return s;
}

NoiseSchedule ve(int levels) {
  NoiseSchedule s;
  s.kind = NoiseKind::ve;
  s.levels = levels;
  s.sigma_min = 0.01;
  s.sigma_max = 8;
  return s;
}

// A score model that returns `scale` times another: a deliberately wrong score.
class ScaledScore final : public ScoreModel {
 public:
  ScaledScore(ScoreModel& inner, const Geometry& g, double scale)
      : inner_(inner), g_(g), scale_(scale) {}
  void score(const Field& x, int level, Field& out) override {
    inner_.score(x, level, out);
    for_each_site(g_, [&](std::size_t p, std::int64_t) { out[p] *= scale_; });
  }

 private:
  ScoreModel& inner_;
  const Geometry& g_;
  double scale_;
};

// Runs n updates on the free field and checks <phi^2> and chi' = V <m^2> = 1/m^2.
template <class Sampler>
double check_free_field(Sampler& sampler, const Geometry& g, int n, const char* what) {
  Field phi = make_field(g);
  std::vector<double> phi2, chi;
  double accepted = 0;
  testing::run_chain(sampler, phi, 50, n, [&](const Field& f, const UpdateResult& r) {
    accepted += r.acceptance;
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    const double m = site_average(g, f, [](double x) { return x; });
    chi.push_back(static_cast<double>(g.global_volume()) * m * m);
  });
  std::printf("%s: acceptance %.3f\n", what, accepted / n);
  expect_agrees(stats::gamma_method(phi2), testing::free_field_phi2(kDims, kM2), "<phi^2>", 4.0,
                0.03);
  expect_agrees(stats::gamma_method(chi), 1 / kM2, "chi'", 4.0, 0.1);
  return accepted / n;
}

TEST(DiffusionMh, IndependenceSamplerWithExactScoreReproducesTheFreeField) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kFreeField);
  const NoiseProcess noise(vp(64));
  FreeFieldScore score(g, model.couplings(), noise);
  DiffusionMh sampler(model, g, noise, score, {}, 11);
  EXPECT_GT(check_free_field(sampler, g, 3000, "VP N = 64, white prior"), 0.3);
}

TEST(DiffusionMh, AcceptanceRisesTowardsOneWithTheNumberOfLevels) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kFreeField);
  double previous = -1;
  for (int levels : {8, 32, 128}) {
    const NoiseProcess noise(vp(levels));
    FreeFieldScore score(g, model.couplings(), noise);
    DiffusionMh sampler(model, g, noise, score, {}, 12);
    Field phi = make_field(g);
    double accepted = 0;
    const int n = 400;
    testing::run_chain(sampler, phi, 20, n,
                       [&](const Field&, const UpdateResult& r) { accepted += r.acceptance; });
    const double acceptance = accepted / n;
    std::printf("  N = %d: acceptance %.3f\n", levels, acceptance);
    EXPECT_GT(acceptance, previous + 0.1) << "N = " << levels;
    previous = acceptance;
  }
  EXPECT_GT(previous, 0.55);
}

TEST(DiffusionMh, DepthKernelAndVeProcessReproduceTheFreeField) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kFreeField);
  // The ancestral kernel: the posterior (SMLD) variance v_i sbar_{i-1}^2 / sbar_i^2 assumes
  // noise far below the field's own fluctuations, which the UV modes of a massive free field
  // do not have, and is rejected almost always here.
  {
    const NoiseProcess noise(ve(40), ReverseKernel::ancestral);
    FreeFieldScore score(g, model.couplings(), noise);
    DiffusionMh sampler(model, g, noise, score, {.depth = 24}, 13);
    check_free_field(sampler, g, 5000, "VE N = 40, depth 24");
  }
  const NoiseProcess noise(vp(64));
  FreeFieldScore score(g, model.couplings(), noise);
  DiffusionMh sampler(model, g, noise, score, {.depth = 16}, 13);
  check_free_field(sampler, g, 4000, "VP N = 64, depth 16");
}

TEST(DiffusionMh, ScaledScoreIsStillExactWithLowerAcceptance) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kFreeField);
  const NoiseProcess noise(vp(64));
  FreeFieldScore exact(g, model.couplings(), noise);
  ScaledScore poor(exact, g, 0.95);
  DiffusionMh good_sampler(model, g, noise, exact, {}, 14);
  DiffusionMh poor_sampler(model, g, noise, poor, {}, 14);
  const double good = check_free_field(good_sampler, g, 1500, "exact score");
  const double bad = check_free_field(poor_sampler, g, 8000, "score x 0.95");
  EXPECT_LT(bad, good - 0.1);
}

TEST(DiffusionMh, FreeFieldScoreOnInteractingOneSiteIsExact) {
  // kappa = 0: every site is the one-site integral exp(-phi^2 - lambda (phi^2 - 1)^2), computed
  // by quadrature; the score is that of the quadratic part (1 - 2 lambda) phi^2 only, and the
  // prior its Gaussian at level N.
  constexpr double kLambda = 0.3;
  const Geometry g({4, 4}, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, ActionConfig{ActionForm::hopping, 0.0, kLambda, 0, 0});
  const NoiseProcess noise(vp(32));
  FreeFieldScore score(g, model.couplings(), noise);
  DiffusionMh sampler(model, g, noise, score, {.depth = 6}, 15);
  Field phi = make_field(g);
  std::vector<double> phi2, phi4;
  double accepted = 0;
  const int n = 8000;
  testing::run_chain(sampler, phi, 50, n, [&](const Field& f, const UpdateResult& r) {
    accepted += r.acceptance;
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    phi4.push_back(site_average(g, f, [](double x) { return x * x * x * x; }));
  });
  std::printf("one-site, free-field score: acceptance %.3f\n", accepted / n);
  EXPECT_GT(accepted / n, 0.05);
  expect_agrees(stats::gamma_method(phi2), testing::one_site_moment(2, kLambda), "<phi^2>", 4.0,
                0.02);
  expect_agrees(stats::gamma_method(phi4), testing::one_site_moment(4, kLambda), "<phi^4>", 4.0,
                0.03);
}

TEST(DiffusionMh, RefusesADepthBeyondTheLevels) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kFreeField);
  const NoiseProcess noise(vp(8));
  FreeFieldScore score(g, model.couplings(), noise);
  EXPECT_THROW(DiffusionMh(model, g, noise, score, {.depth = 9}, 1), std::invalid_argument);
}

}  // namespace
}  // namespace latdiff
