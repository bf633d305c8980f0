#include "diffusion/linear_score.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <stdexcept>
#include <string>
#include <utility>

namespace latdiff {
namespace {

void locate_momenta(const Geometry& g, const HatBasis& basis, std::vector<int>& segment,
                    std::vector<double>& weight) {
  const std::vector<double> p2 = lattice_momentum_squared(g);
  segment.resize(p2.size());
  weight.resize(p2.size());
  for (std::size_t p = 0; p < p2.size(); ++p) basis.locate(p2[p], segment[p], weight[p]);
}

// Interior of xi = abar_i x0 + sbar_i z and t = -z / sbar_i, z from the training noise.
void noised(const Geometry& g, const NoiseProcess& noise, const CounterRng& rng, int level,
            std::uint64_t sample, int draw, const Field& x0, Field& xi, Field& t) {
  const double a = noise.abar(level), s = std::sqrt(noise.sbar2(level));
  const std::uint64_t c =
      (static_cast<std::uint64_t>(level) << 32) | static_cast<std::uint64_t>(draw);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    const double z = rng.normal4(static_cast<std::uint64_t>(gi), sample, c)[0];
    xi[p] = a * x0[p] + s * z;
    t[p] = -z / s;
  });
}

}  // namespace

HatBasis::HatBasis(int dim, int knots) : knots_(knots) {
  if (dim < 1) throw std::invalid_argument("HatBasis: dim must be >= 1");
  if (knots < 2)
    throw std::invalid_argument("linear score: knots must be >= 2 (got " + std::to_string(knots) +
                                ")");
  top_ = 4.0 * dim;
  spacing_ = top_ / (knots - 1);
}

void HatBasis::locate(double u, int& j, double& t) const {
  u = std::clamp(u, 0.0, top_);
  j = std::min(static_cast<int>(u / spacing_), knots_ - 2);
  t = std::clamp((u - knot(j)) / spacing_, 0.0, 1.0);
}

LinearScore::LinearScore(const Geometry& g, int knots, std::vector<std::vector<double>> theta)
    : g_(g), basis_(g.dim(), knots), theta_(std::move(theta)), fft_(g) {
  if (theta_.empty()) throw std::invalid_argument("linear score: no noise level");
  for (std::size_t i = 0; i < theta_.size(); ++i)
    if (theta_[i].size() != static_cast<std::size_t>(knots + kLocalTerms))
      throw std::invalid_argument("linear score: level " + std::to_string(i + 1) + " has " +
                                  std::to_string(theta_[i].size()) + " parameters, expected " +
                                  std::to_string(knots + kLocalTerms));
  locate_momenta(g, basis_, segment_, weight_);
  spectrum_.resize(fft_.local_size());
}

double LinearScore::kernel(int level, double u) const {
  const std::vector<double>& th = parameters(level);
  int j = 0;
  double t = 0;
  basis_.locate(u, j, t);
  return (1 - t) * th[j] + t * th[j + 1];
}

void LinearScore::score(const Field& x, int level, Field& out) {
  if (level < 1 || level > levels())
    throw std::out_of_range("linear score: level " + std::to_string(level) + " not in 1 ... " +
                            std::to_string(levels()));
  const std::vector<double>& th = theta_[level - 1];
  fft_.forward(x, spectrum_);
  for (std::size_t p = 0; p < spectrum_.size(); ++p) {
    const double t = weight_[p];
    const int j = segment_[p];
    spectrum_[p] *= -((1 - t) * th[j] + t * th[j + 1]);
  }
  fft_.inverse(spectrum_, out);
  const double c3 = th[knots()], c5 = th[knots() + 1];
  for_each_site(g_, [&](std::size_t p, std::int64_t) {
    const double v = x[p], v3 = v * v * v, v5 = v3 * v * v;
    out[p] -= c3 * v3 + c5 * v5;
  });
}

LinearScoreTrainer::LinearScoreTrainer(const Geometry& g, const NoiseProcess& noise, int knots,
                                       const CounterRng& rng, int draws)
    : g_(g),
      noise_(noise),
      basis_(g.dim(), knots),
      rng_(rng),
      draws_(draws),
      params_(knots + LinearScore::kLocalTerms),
      block_(static_cast<std::size_t>(params_ * params_ + params_ + 1)),
      fft_(g) {
  if (draws < 1)
    throw std::invalid_argument("linear score trainer: draws must be >= 1 (got " +
                                std::to_string(draws) + ")");
  locate_momenta(g, basis_, segment_, weight_);
  sums_.resize(block_ * static_cast<std::size_t>(noise.levels()));
  xi_ = make_field(g);
  t_ = make_field(g);
  x3_ = make_field(g);
  x5_ = make_field(g);
  for (ComplexField* c : {&xs_, &ts_, &x3s_, &x5s_}) c->resize(fft_.local_size());
}

void LinearScoreTrainer::add(const Field& x0, std::uint64_t sample) {
  const int n = basis_.knots(), c3 = n, c5 = n + 1;
  const double inv_v = 1 / static_cast<double>(g_.global_volume());
  for (int level = 1; level <= noise_.levels(); ++level) {
    for (int r = 0; r < draws_; ++r) {
      noised(g_, noise_, rng_, level, sample, r, x0, xi_, t_);
      ExactSum& m33 = sums_[m_index(level, c3, c3)];
      ExactSum& m35 = sums_[m_index(level, c3, c5)];
      ExactSum& m55 = sums_[m_index(level, c5, c5)];
      ExactSum& b3 = sums_[b_index(level, c3)];
      ExactSum& b5 = sums_[b_index(level, c5)];
      ExactSum& tt = sums_[tt_index(level)];
      // Local terms f_3 = -x^3, f_5 = -x^5, in position space.
      for_each_site(g_, [&](std::size_t p, std::int64_t) {
        const double v = xi_[p], v3 = v * v * v, v5 = v3 * v * v, t = t_[p];
        x3_[p] = v3;
        x5_[p] = v5;
        m33.add(v3 * v3);
        m35.add(v3 * v5);
        m55.add(v5 * v5);
        b3.add(-v3 * t);
        b5.add(-v5 * t);
        tt.add(t * t);
      });
      // Hat terms f_j = -F^{-1}[hat_j x~], in momentum space (Parseval: <f, g> =
      // (1/V) sum_p Re(conj(f~) g~)).
      fft_.forward(xi_, xs_);
      fft_.forward(t_, ts_);
      fft_.forward(x3_, x3s_);
      fft_.forward(x5_, x5s_);
      for (std::size_t p = 0; p < xs_.size(); ++p) {
        const std::complex<double> xc = std::conj(xs_[p]);
        const double xx = std::norm(xs_[p]) * inv_v;
        const double x3 = (xc * x3s_[p]).real() * inv_v;
        const double x5 = (xc * x5s_[p]).real() * inv_v;
        const double xt = (xc * ts_[p]).real() * inv_v;
        const int j = segment_[p];
        const double w1 = weight_[p], w0 = 1 - w1;
        sums_[m_index(level, j, j)].add(w0 * w0 * xx);
        sums_[m_index(level, j, j + 1)].add(w0 * w1 * xx);
        sums_[m_index(level, j + 1, j + 1)].add(w1 * w1 * xx);
        sums_[m_index(level, j, c3)].add(w0 * x3);
        sums_[m_index(level, j + 1, c3)].add(w1 * x3);
        sums_[m_index(level, j, c5)].add(w0 * x5);
        sums_[m_index(level, j + 1, c5)].add(w1 * x5);
        sums_[b_index(level, j)].add(-w0 * xt);
        sums_[b_index(level, j + 1)].add(-w1 * xt);
      }
    }
  }
  samples_ += draws_;
}

std::vector<ExactSum> LinearScoreTrainer::reduced() const {
  std::vector<ExactSum> s = sums_;
  allreduce_each(s, g_.comm());
  return s;
}

std::vector<std::vector<double>> LinearScoreTrainer::solve() const {
  if (samples_ == 0) throw std::runtime_error("linear score trainer: no training sample");
  const std::vector<ExactSum> s = reduced();
  const int n = params_, knots = basis_.knots();
  std::vector<std::vector<double>> theta(static_cast<std::size_t>(noise_.levels()),
                                         std::vector<double>(n, 0.0));
  std::vector<double> m(static_cast<std::size_t>(n * n)), b(n), scale(n);
  std::vector<int> active;
  for (int level = 1; level <= noise_.levels(); ++level) {
    for (int k = 0; k < n; ++k)
      for (int l = k; l < n; ++l) m[k * n + l] = m[l * n + k] = s[m_index(level, k, l)].value();
    for (int k = 0; k < n; ++k) b[k] = s[b_index(level, k)].value();
    const auto finite = [](double v) { return std::isfinite(v); };
    if (!std::all_of(m.begin(), m.end(), finite) || !std::all_of(b.begin(), b.end(), finite))
      throw std::runtime_error("linear score trainer: normal equations of level " +
                               std::to_string(level) +
                               " are not finite (training data too large or not finite)");
    std::vector<double>& th = theta[level - 1];
    std::vector<bool> fitted(n, false), excluded(n, false);
    // Least squares over the basis terms with weight in the data, less the excluded ones.
    const auto fit = [&] {
      std::fill(th.begin(), th.end(), 0.0);
      std::fill(fitted.begin(), fitted.end(), false);
      active.clear();
      for (int k = 0; k < n; ++k) {
        const double d = m[k * n + k];
        if (d > 0 && std::isfinite(d) && !excluded[k]) {
          active.push_back(k);
          scale[k] = 1 / std::sqrt(d);
        }
      }
      const std::size_t na = active.size();
      // Cholesky of the Jacobi-scaled matrix A = D M D + ridge I (lower triangle in a).
      std::vector<double> a(na * na, 0.0), y(na, 0.0);
      for (std::size_t r = 0; r < na; ++r)
        for (std::size_t c = 0; c <= r; ++c) {
          const int kr = active[r], kc = active[c];
          // The scaled diagonal is 1 by construction; the ridge is added to it.
          a[r * na + c] = r == c ? 1 + kRidge : m[kr * n + kc] * scale[kr] * scale[kc];
        }
      for (std::size_t c = 0; c < na; ++c) {
        double d = a[c * na + c];
        for (std::size_t k = 0; k < c; ++k) d -= a[c * na + k] * a[c * na + k];
        if (!(d > 0))
          throw std::runtime_error("linear score trainer: normal equations of level " +
                                   std::to_string(level) + " are not positive definite");
        d = std::sqrt(d);
        a[c * na + c] = d;
        for (std::size_t r = c + 1; r < na; ++r) {
          double e = a[r * na + c];
          for (std::size_t k = 0; k < c; ++k) e -= a[r * na + k] * a[c * na + k];
          a[r * na + c] = e / d;
        }
      }
      for (std::size_t r = 0; r < na; ++r) {
        double e = b[active[r]] * scale[active[r]];
        for (std::size_t k = 0; k < r; ++k) e -= a[r * na + k] * y[k];
        y[r] = e / a[r * na + r];
      }
      for (std::size_t r = na; r-- > 0;) {
        double e = y[r];
        for (std::size_t k = r + 1; k < na; ++k) e -= a[k * na + r] * y[k];
        y[r] = e / a[r * na + r];
      }
      for (std::size_t r = 0; r < na; ++r) {
        th[active[r]] = y[r] * scale[active[r]];
        fitted[active[r]] = true;
      }
    };
    // The effective action must be bounded below: c5 >= 0, and c3 >= 0 when c5 = 0. A fit
    // outside is refitted without the offending term (its coefficient 0).
    fit();
    const int c3 = knots, c5 = knots + 1;
    if (th[c5] < 0) {
      excluded[c5] = true;
      fit();
    }
    if (excluded[c5] && th[c3] < 0) {
      excluded[c3] = true;
      fit();
    }
    // Knots no momentum reached: interpolate between the nearest fitted knots.
    for (int j = 0; j < knots; ++j) {
      if (fitted[j]) continue;
      int lo = j - 1, hi = j + 1;
      while (lo >= 0 && !fitted[lo]) --lo;
      while (hi < knots && !fitted[hi]) ++hi;
      if (lo >= 0 && hi < knots)
        th[j] = th[lo] + (th[hi] - th[lo]) * (j - lo) / static_cast<double>(hi - lo);
      else if (lo >= 0)
        th[j] = th[lo];
      else if (hi < knots)
        th[j] = th[hi];
    }
  }
  return theta;
}

std::vector<double> LinearScoreTrainer::training_loss(
    const std::vector<std::vector<double>>& theta) const {
  if (theta.size() != static_cast<std::size_t>(noise_.levels()))
    throw std::invalid_argument("linear score trainer: training_loss needs every level");
  const std::vector<ExactSum> s = reduced();
  const int n = params_;
  std::vector<double> loss(theta.size(), 0.0);
  if (samples_ == 0) return loss;
  for (int level = 1; level <= noise_.levels(); ++level) {
    const std::vector<double>& th = theta[level - 1];
    ExactSum q;
    q.add(s[tt_index(level)].value());
    for (int k = 0; k < n; ++k) {
      q.add(-2 * th[k] * s[b_index(level, k)].value());
      for (int l = 0; l < n; ++l)
        q.add(th[k] * th[l] * s[m_index(level, std::min(k, l), std::max(k, l))].value());
    }
    loss[level - 1] =
        q.value() / (static_cast<double>(samples_) * static_cast<double>(g_.global_volume()));
  }
  return loss;
}

std::vector<double> denoising_loss(ScoreModel& model, const Geometry& g, const NoiseProcess& noise,
                                   const CounterRng& rng, const std::vector<Field>& configs,
                                   std::uint64_t first_sample, int draws) {
  if (draws < 1) throw std::invalid_argument("denoising_loss: draws must be >= 1");
  std::vector<ExactSum> sums(static_cast<std::size_t>(noise.levels()));
  Field xi = make_field(g), t = make_field(g), s = make_field(g);
  for (std::size_t c = 0; c < configs.size(); ++c)
    for (int level = 1; level <= noise.levels(); ++level)
      for (int r = 0; r < draws; ++r) {
        noised(g, noise, rng, level, first_sample + c, r, configs[c], xi, t);
        model.score(xi, level, s);
        ExactSum& sum = sums[level - 1];
        for_each_site(g, [&](std::size_t p, std::int64_t) {
          const double e = s[p] - t[p];
          sum.add(e * e);
        });
      }
  allreduce_each(sums, g.comm());
  const double n =
      static_cast<double>(configs.size()) * draws * static_cast<double>(g.global_volume());
  std::vector<double> loss(sums.size());
  for (std::size_t i = 0; i < sums.size(); ++i) loss[i] = sums[i].value() / n;
  return loss;
}

}  // namespace latdiff
