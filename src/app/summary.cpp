#include "app/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <numeric>

#include "stats/autocorrelation.hpp"

namespace latdiff {

namespace {

std::string line(const char* name, const stats::GammaResult& r) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %-22s %.6g +- %.2g  (tau_int %.3g)\n", name, r.value, r.error,
                r.tau_int);
  return buf;
}

// The deck keys that set the sampler's step size, for the advice in warnings.
const char* step_size_keys(std::optional<SamplerType> sampler) {
  if (!sampler) return "the sampler's step size";
  switch (*sampler) {
    case SamplerType::metropolis:
      return "sampler.step";
    case SamplerType::hmc:
      return "the step size sampler.trajectory_length / sampler.md_steps";
    case SamplerType::langevin:
    case SamplerType::mala:
      return "sampler.langevin_step";
    case SamplerType::diffusion:
      return "the path length: raise diffusion.levels, or set diffusion.depth below it";
    case SamplerType::generate:
    case SamplerType::gibbs:
      return "nothing: these updates are always taken";
    case SamplerType::flip:
      return "nothing: single flips are the smallest moves (a low rate means a cold model)";
  }
  return "the sampler's step size";
}

// <exp(-dH)> line over the updates with an accept/reject step (NaN rows are those of an
// interleaved sampler without one). An infinite dH is a rejected proposal of Metropolis ratio
// 0 (update_result.hpp), so it counts as exp(-dH) = 0. A dH below -709,
// seen while a chain still relaxes, overflows exp: the mean is then reported as inf without an
// error instead of failing the summary.
std::string exp_minus_delta_h_line(const std::vector<double>& delta_h) {
  std::vector<double> w;
  for (double d : delta_h)
    if (!std::isnan(d)) w.push_back(std::isfinite(d) ? std::exp(-d) : 0.0);
  if (w.size() < 2) return "";
  if (std::all_of(w.begin(), w.end(), [](double x) { return std::isfinite(x); }))
    return line("<exp(-dH)>", stats::gamma_method(w));
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "  %-22s inf  (exp(-dH) overflows at min dH = %.3g: not in equilibrium, raise "
                "run.thermalize)\n",
                "<exp(-dH)>", *std::min_element(delta_h.begin(), delta_h.end()));
  return buf;
}

// Warning lines for a chain that failed: proposals rejected for a non-finite dH, or a chain
// that never moved (its averages then describe one configuration, not the target).
std::string warnings(const SummaryInput& in) {
  std::string out;
  char buf[320];
  const auto non_finite =
      std::count_if(in.delta_h.begin(), in.delta_h.end(), [](double x) { return std::isinf(x); });
  if (non_finite > 0) {
    std::snprintf(buf, sizeof buf,
                  "warning: %lld of %zu proposals had a non-finite energy change and were "
                  "rejected; reduce %s\n",
                  static_cast<long long>(non_finite), in.delta_h.size(),
                  step_size_keys(in.sampler));
    out += buf;
  }
  if (!in.accept.empty() &&
      std::all_of(in.accept.begin(), in.accept.end(), [](double a) { return a == 0; })) {
    std::snprintf(buf, sizeof buf,
                  "warning: no proposal was accepted in %zu updates: the chain never moved and "
                  "its averages are those of the start configuration; lower %s\n",
                  in.accept.size(), step_size_keys(in.sampler));
    out += buf;
  } else if (in.mag.size() >= 2 &&
             std::all_of(in.mag.begin(), in.mag.end(), [&](double m) { return m == in.mag[0]; })) {
    // Accepted only before the first measurement: stuck all the same.
    std::snprintf(buf, sizeof buf,
                  "warning: m is the same in all %zu measurements: the chain stopped moving and "
                  "its averages are those of a single configuration; lower %s\n",
                  in.mag.size(), step_size_keys(in.sampler));
    out += buf;
  }
  return out;
}

}  // namespace

std::string format_summary(const SummaryInput& in) {
  std::string out = "latdiff summary\n";
  char buf[200];
  const double updates_per_s = in.seconds > 0 ? in.segment_updates / in.seconds : 0;
  std::snprintf(buf, sizeof buf,
                "  %-22s %lld updates in %.3g s (%.3g updates/s, %.3g site-updates/s)\n",
                "this run", static_cast<long long>(in.segment_updates), in.seconds, updates_per_s,
                updates_per_s * in.volume);
  out += buf;
  if (in.accept.size() >= 2) out += line("acceptance", stats::gamma_method(in.accept));
  if (in.delta_h.size() >= 2) out += exp_minus_delta_h_line(in.delta_h);
  std::vector<double> ess;
  std::copy_if(in.ess.begin(), in.ess.end(), std::back_inserter(ess),
               [](double x) { return !std::isnan(x); });
  if (ess.size() >= 2) out += line("ESS / block size", stats::gamma_method(ess));
  if (in.sampler == SamplerType::generate)
    out +=
        "  (generated without a Metropolis-Hastings test: the averages carry the score model's "
        "bias)\n";
  if (in.mag.size() < 2) return out + "  (fewer than 2 measurements: no averages)\n" + warnings(in);
  const auto non_finite =
      std::count_if(in.mag.begin(), in.mag.end(), [](double m) { return !std::isfinite(m); });
  if (non_finite > 0) {
    std::snprintf(buf, sizeof buf,
                  "  (%lld of %zu measurements are not finite, the field overflowed: no "
                  "averages)\n",
                  static_cast<long long>(non_finite), in.mag.size());
    return out + buf + warnings(in);
  }
  std::vector<double> abs_m(in.mag.size()), m2(in.mag.size()), m4(in.mag.size());
  for (std::size_t i = 0; i < in.mag.size(); ++i) {
    abs_m[i] = std::abs(in.mag[i]);
    m2[i] = in.mag[i] * in.mag[i];
    m4[i] = m2[i] * m2[i];
  }
  std::snprintf(buf, sizeof buf, "  %-22s %zu\n", "measurements", in.mag.size());
  out += buf;
  const double v = in.volume;
  out += line("<|m|>", stats::gamma_method(abs_m));
  out += line("chi = V(<m2>-<|m|>2)",
              stats::gamma_method_derived({abs_m, m2}, [v](std::span<const double> a) {
                return v * (a[1] - a[0] * a[0]);
              }));
  out += line("chi' = V<m2>", stats::gamma_method_derived(
                                  {m2}, [v](std::span<const double> a) { return v * a[0]; }));
  const bool fluctuates = std::any_of(m2.begin(), m2.end(), [](double x) { return x > 0; });
  if (fluctuates)
    out += line("U = 1-<m4>/(3<m2>2)",
                stats::gamma_method_derived({m2, m4}, [](std::span<const double> a) {
                  return 1 - a[1] / (3 * a[0] * a[0]);
                }));
  return out + warnings(in);
}

}  // namespace latdiff
