// Elementary functions as inline IEEE arithmetic, without library calls or branches, for the
// samplers' per-site loops: a loop that calls them vectorises, and with the build's
// -ffp-contract=off a SIMD lane of any width rounds exactly as scalar code does, so results do
// not depend on the instruction set the compiler chose. Each is accurate to a few ulp on the
// range it states (tests/samplers/test_inline_math.cpp checks them against libm). Square
// roots need no replacement: std::sqrt is correctly rounded, and -fno-math-errno lets it
// vectorise.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace latdiff::inline_math {

// q + 1.5 * 2^52 holds round(q) in its low mantissa bits for |q| < 2^51.
inline constexpr double kRoundMagic = 0x1.8p52;
inline double round_to_integer(double q) {
  return q + kRoundMagic - kRoundMagic;
}
// An integer-valued double (|q| < 2^51) as an int64, and back.
inline std::int64_t to_int(double q) {
  return std::bit_cast<std::int64_t>(q + kRoundMagic) - std::bit_cast<std::int64_t>(kRoundMagic);
}
inline double to_double(std::int64_t k) {
  return std::bit_cast<double>(std::bit_cast<std::int64_t>(kRoundMagic) + k) - kRoundMagic;
}

// ln 2 split so that k * kLn2Hi is exact for |k| < 2^11 (fdlibm's split).
inline constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;

// 1/n! for n <= 18, each rounded once.
inline constexpr auto kInverseFactorial = [] {
  std::array<double, 19> f{};
  double n_factorial = 1;
  for (int n = 0; n < 19; ++n) {
    if (n > 0) n_factorial *= n;
    f[n] = 1 / n_factorial;
  }
  return f;
}();

// e^x for x in [-708, 0]: x = n ln 2 + r with |r| <= ln 2 / 2 (Cody-Waite), e^r by its Taylor
// series to r^13 (the remainder is below 10^-17), and 2^n (normal, n >= -1022) written into
// the exponent bits.
inline double exp_nonpositive(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  const double n = round_to_integer(x * kLog2e);
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = kInverseFactorial[13];
  for (int k = 12; k >= 0; --k) p = p * r + kInverseFactorial[k];
  return p * std::bit_cast<double>(static_cast<std::uint64_t>(to_int(n) + 1023) << 52);
}

// ln x for normal x in (0, 1]: x = 2^k m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s)
// for s = (m - 1) / (m + 1), |s| < 0.172, by its series to s^21.
inline double log_unit(double x) {
  const std::int64_t bits = std::bit_cast<std::int64_t>(x);
  const std::int64_t k = (bits - std::bit_cast<std::int64_t>(0x1.6a09e667f3bcdp-1)) >> 52;
  const double m = std::bit_cast<double>(bits - k * (std::int64_t{1} << 52));
  const double s = (m - 1) / (m + 1), z = s * s;
  double p = 1.0 / 21;
  for (int j = 19; j >= 3; j -= 2) p = p * z + 1.0 / j;
  const double log_m = 2 * s + 2 * s * z * p;
  const double dk = to_double(k);
  return dk * kLn2Hi + (log_m + dk * kLn2Lo);
}

// sin(pi u) and cos(pi u) for |u| <= 1: u = q/2 + r with |r| <= 1/4, the Taylor series of sin
// and cos at x = pi r (to x^17 and x^18), then the quadrant q.
inline void sincos_pi(double u, double& sin_out, double& cos_out) {
  const double half_turns = round_to_integer(2 * u);
  const std::int64_t q = to_int(half_turns);
  const double x = 3.141592653589793 * (u - 0.5 * half_turns), x2 = x * x;  // u - ... exact
  // sin x = x + x^3 S(x^2), cos x = 1 + x^2 C(x^2), by Horner from the highest order.
  double sp = kInverseFactorial[17], cp = -kInverseFactorial[18];
  for (int k = 7; k >= 1; --k) sp = (k % 2 ? -1 : 1) * kInverseFactorial[2 * k + 1] + x2 * sp;
  for (int k = 8; k >= 1; --k) cp = (k % 2 ? -1 : 1) * kInverseFactorial[2 * k] + x2 * cp;
  const double s = x + x * x2 * sp, c = 1 + x2 * cp;
  // Quadrant q mod 4: (s, c), (c, -s), (-s, -c), (-c, s).
  const bool swap = (q & 1) != 0;
  const auto flip_s = static_cast<std::uint64_t>(q & 2) << 62;
  const auto flip_c = static_cast<std::uint64_t>((q + 1) & 2) << 62;
  sin_out = std::bit_cast<double>(std::bit_cast<std::uint64_t>(swap ? c : s) ^ flip_s);
  cos_out = std::bit_cast<double>(std::bit_cast<std::uint64_t>(swap ? s : c) ^ flip_c);
}

}  // namespace latdiff::inline_math
