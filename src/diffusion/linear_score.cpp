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

// Whether this rank holds p = 0, at local momentum index 0 (DistributedFft's layout).
bool holds_zero_momentum(const Geometry& g) {
  const std::vector<int>& o = g.offset();
  return std::all_of(o.begin(), o.end(), [](int x) { return x == 0; });
}

ScoreBasis checked(ScoreBasis b) {
  b.check();
  return b;
}

}  // namespace

LinearScore::LinearScore(const Geometry& g, ScoreBasis basis,
                         std::vector<std::vector<double>> theta)
    : g_(g),
      basis_(checked(std::move(basis))),
      hats_(g.dim(), basis_.knots),
      theta_(std::move(theta)),
      fft_(g) {
  if (theta_.empty()) throw std::invalid_argument("linear score: no noise level");
  const auto n = static_cast<std::size_t>(basis_.parameters());
  for (std::size_t i = 0; i < theta_.size(); ++i)
    if (theta_[i].size() != n)
      throw std::invalid_argument("linear score: level " + std::to_string(i + 1) + " has " +
                                  std::to_string(theta_[i].size()) + " parameters, expected " +
                                  std::to_string(n));
  locate_momenta(g, hats_, segment_, weight_);
  holds_zero_ = holds_zero_momentum(g);
  for (int s = 0; s < basis_.scales(); ++s) {
    if (s > 0) filters_.push_back(block_filter(g, basis_.block_sizes[s - 1]));
    scale_terms_.push_back({basis_.index(s, 1), basis_.index(s, 3), basis_.index(s, 5)});
  }
  for (ComplexField* c : {&spectrum_, &total_, &work_}) c->resize(fft_.local_size());
  block_ = make_field(g);
}

double LinearScore::coupling(int level, int scale, int power) const {
  const int k = basis_.index(scale, power);
  return k < 0 ? 0.0 : parameters(level)[k];
}

double LinearScore::kernel(int level, double u) const {
  const std::vector<double>& th = parameters(level);
  int j = 0;
  double t = 0;
  hats_.locate(u, j, t);
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
    total_[p] = spectrum_[p] * -((1 - t) * th[j] + t * th[j + 1]);
  }
  // Block terms: B_b = F^{-1}[K_b x~], then -K_b F[U'_b(B_b)] into the total spectrum.
  for (std::size_t s = 0; s < filters_.size(); ++s) {
    const auto [i1, i3, i5] = scale_terms_[s + 1];
    const double c1 = i1 < 0 ? 0.0 : th[i1], c3 = th[i3], c5 = th[i5];
    if (c1 == 0 && c3 == 0 && c5 == 0) continue;
    if (basis_.block_sizes[s] == 0) {
      // The zero mode: B_0 = m everywhere, so K_0 F[U'(m)] is V U'(m) at p = 0 alone.
      if (holds_zero_) {
        const double v = static_cast<double>(g_.global_volume());
        const double m = spectrum_[0].real() / v, m2 = m * m;
        total_[0] -= v * (m * (c1 + m2 * (c3 + c5 * m2)));
      }
      continue;
    }
    const std::vector<double>& k = filters_[s];
    for (std::size_t p = 0; p < spectrum_.size(); ++p) work_[p] = spectrum_[p] * k[p];
    fft_.inverse(work_, block_);
    for_each_site(g_, [&](std::size_t p, std::int64_t) {
      const double v = block_[p], v2 = v * v;
      block_[p] = v * (c1 + v2 * (c3 + c5 * v2));
    });
    fft_.forward(block_, work_);
    for (std::size_t p = 0; p < spectrum_.size(); ++p) total_[p] -= work_[p] * k[p];
  }
  fft_.inverse(total_, out);
  const double c3 = th[scale_terms_[0][1]], c5 = th[scale_terms_[0][2]];
  for_each_site(g_, [&](std::size_t p, std::int64_t) {
    const double v = x[p], v3 = v * v * v, v5 = v3 * v * v;
    out[p] -= c3 * v3 + c5 * v5;
  });
}

LinearScoreTrainer::LinearScoreTrainer(const Geometry& g, const NoiseProcess& noise,
                                       ScoreBasis basis, const CounterRng& rng, int draws)
    : g_(g),
      noise_(noise),
      basis_(checked(std::move(basis))),
      hats_(g.dim(), basis_.knots),
      rng_(rng),
      draws_(draws),
      params_(basis_.parameters()),
      block_(static_cast<std::size_t>(params_ * params_ + params_ + 1)),
      fft_(g) {
  if (draws < 1)
    throw std::invalid_argument("linear score trainer: draws must be >= 1 (got " +
                                std::to_string(draws) + ")");
  locate_momenta(g, hats_, segment_, weight_);
  holds_zero_ = holds_zero_momentum(g);
  terms_ = basis_.local_terms();
  filters_.push_back(std::vector<double>(fft_.local_size(), 1.0));
  for (int b : basis_.block_sizes) filters_.push_back(block_filter(g, b));
  sums_.resize(block_ * static_cast<std::size_t>(noise.levels()));
  xi_ = make_field(g);
  t_ = make_field(g);
  block_field_ = make_field(g);
  power_ = make_field(g);
  for (ComplexField* c : {&xs_, &ts_, &work_}) c->resize(fft_.local_size());
  powers_.assign(terms_.size(), ComplexField(fft_.local_size()));
}

void LinearScoreTrainer::add(const Field& x0, std::uint64_t sample) {
  const int knots = basis_.knots, locals = static_cast<int>(terms_.size());
  const double inv_v = 1 / static_cast<double>(g_.global_volume());
  for (int level = 1; level <= noise_.levels(); ++level) {
    for (int r = 0; r < draws_; ++r) {
      noised(g_, noise_, rng_, level, sample, r, x0, xi_, t_);
      ExactSum& tt = sums_[tt_index(level)];
      for_each_site(g_, [&](std::size_t p, std::int64_t) { tt.add(t_[p] * t_[p]); });
      fft_.forward(xi_, xs_);
      fft_.forward(t_, ts_);
      // Spectra of the powers B_s^q of the local terms (B_0 = x_i; terms_ lists each scale's
      // terms together, so each block field is made once).
      for (int k = 0; k < locals; ++k) {
        const int s = terms_[k].scale, q = terms_[k].power;
        if (s > 0 && basis_.block_sizes[s - 1] == 0) {
          // The zero mode: B_0 = m everywhere, its powers' spectra V m^q at p = 0 alone (the
          // only momentum its filter passes; no other entry is read).
          if (holds_zero_) {
            const double v = static_cast<double>(g_.global_volume()), m = xs_[0].real() / v;
            powers_[k][0] = v * (q == 1 ? m : q == 3 ? m * m * m : m * m * m * m * m);
          }
          continue;
        }
        const Field* field = &xi_;
        if (s > 0) {
          if (k == 0 || terms_[k - 1].scale != s) {
            for (std::size_t p = 0; p < xs_.size(); ++p) work_[p] = xs_[p] * filters_[s][p];
            fft_.inverse(work_, block_field_);
          }
          field = &block_field_;
        }
        for_each_site(g_, [&](std::size_t p, std::int64_t) {
          const double v = (*field)[p], v2 = v * v;
          power_[p] = q == 1 ? v : q == 3 ? v * v2 : v * v2 * v2;
        });
        fft_.forward(power_, powers_[k]);
      }
      // Every inner product in momentum space (Parseval: <f, g> = (1/V) sum_p Re(conj(f~) g~)),
      // with hat terms f~_j = -hat_j x~ and local terms f~_k = -K_s P~_k.
      for (std::size_t p = 0; p < xs_.size(); ++p) {
        const std::complex<double> xc = std::conj(xs_[p]);
        const double xx = std::norm(xs_[p]) * inv_v;
        const double xt = (xc * ts_[p]).real() * inv_v;
        const int j = segment_[p];
        const double w1 = weight_[p], w0 = 1 - w1;
        sums_[m_index(level, j, j)].add(w0 * w0 * xx);
        sums_[m_index(level, j, j + 1)].add(w0 * w1 * xx);
        sums_[m_index(level, j + 1, j + 1)].add(w1 * w1 * xx);
        sums_[b_index(level, j)].add(-w0 * xt);
        sums_[b_index(level, j + 1)].add(-w1 * xt);
        for (int k = 0; k < locals; ++k) {
          const double fk = filters_[terms_[k].scale][p];
          if (fk == 0) continue;
          const std::complex<double> pk = powers_[k][p], pc = std::conj(pk);
          const int ck = knots + k;
          const double hat = fk * (xc * pk).real() * inv_v;
          sums_[m_index(level, j, ck)].add(w0 * hat);
          sums_[m_index(level, j + 1, ck)].add(w1 * hat);
          sums_[b_index(level, ck)].add(-fk * (pc * ts_[p]).real() * inv_v);
          for (int l = k; l < locals; ++l) {
            const double fl = filters_[terms_[l].scale][p];
            if (fl == 0) continue;
            sums_[m_index(level, ck, knots + l)].add(fk * fl * (pc * powers_[l][p]).real() * inv_v);
          }
        }
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
  const int n = params_, knots = basis_.knots;
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
      double top_knot = 0;  // the largest weight of a knot in the data
      for (int k = 0; k < knots; ++k) top_knot = std::max(top_knot, m[k * n + k]);
      for (int k = 0; k < n; ++k) {
        const double d = m[k * n + k];
        // A knot whose weight is rounding noise (a momentum exactly on the neighbouring knot,
        // computed 1e-16 off it) is unreached: fitted, it would take ~1e14 from the noise.
        const bool reached = k >= knots || d > kUnreached * top_knot;
        if (d > 0 && std::isfinite(d) && reached && !excluded[k]) {
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
    // The effective action must be bounded below: per scale c5 >= 0, and c3 >= 0 when c5 = 0.
    // A fit outside is refitted without the offending terms (their coefficients 0).
    fit();
    for (bool refit = true; refit;) {
      refit = false;
      for (int scale = 0; scale < basis_.scales(); ++scale) {
        const int c1 = basis_.index(scale, 1), c3 = basis_.index(scale, 3),
                  c5 = basis_.index(scale, 5);
        if (!excluded[c5] && th[c5] < 0) {
          excluded[c5] = refit = true;
        } else if (excluded[c5] && !excluded[c3] && th[c3] < 0) {
          excluded[c3] = refit = true;
        } else if (excluded[c3] && c1 >= 0 && !excluded[c1] && th[c1] < 0) {
          excluded[c1] = refit = true;
        }
      }
      if (refit) fit();
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
