#include "app/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
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
  if (in.delta_h.size() >= 2) {
    std::vector<double> w(in.delta_h.size());
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::exp(-in.delta_h[i]);
    out += line("<exp(-dH)>", stats::gamma_method(w));
  }
  if (in.mag.size() < 2) return out + "  (fewer than 2 measurements: no averages)\n";
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
  return out;
}

}  // namespace latdiff
