#include <Random123/philox.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "random/philox_lanes.hpp"

namespace latdiff {
namespace {

// Every lane equals Random123's philox4x32 of its counter, for a full block and for partial
// ones (lanes past n rounded up to a SIMD group untouched).
TEST(PhiloxLanes, MatchesRandom123BitForBit) {
  constexpr std::size_t kN = 48;
  const std::uint64_t key = 0x0123456789abcdefULL;
  for (const int n : {48, 37, 5}) {
    PhiloxLanes<kN> x;
    for (std::size_t i = 0; i < kN; ++i)
      for (int w = 0; w < 4; ++w)
        x.word[w][i] = static_cast<std::uint32_t>(0x9e3779b9u * (i + 1) * (w + 3) + w);
    const PhiloxLanes<kN> input = x;
    philox4x32_10(x, key, n);
    const r123::Philox4x32::key_type k{
        {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)}};
    for (std::size_t i = 0; i < kN; ++i) {
      const r123::Philox4x32::ctr_type c{
          {input.word[0][i], input.word[1][i], input.word[2][i], input.word[3][i]}};
      const int lane = static_cast<int>(i);
      const int group_end = (n + kPhiloxGroup - 1) / kPhiloxGroup * kPhiloxGroup;
      if (lane >= n && lane < group_end) continue;  // may be overwritten
      const auto expected = lane < n ? r123::Philox4x32()(c, k) : c;
      for (int w = 0; w < 4; ++w) EXPECT_EQ(x.word[w][i], expected[w]) << "lane " << i;
    }
  }
}

// Random123's known-answer vector for philox4x32_10 (kat_vectors: counter and key all ones).
TEST(PhiloxLanes, KnownAnswer) {
  PhiloxLanes<16> x;
  for (int w = 0; w < 4; ++w) x.word[w][0] = 0xffffffffu;
  philox4x32_10(x, 0xffffffffffffffffULL, 1);
  EXPECT_EQ(x.word[0][0], 0x408f276du);
  EXPECT_EQ(x.word[1][0], 0x41c83b0eu);
  EXPECT_EQ(x.word[2][0], 0xa20bc7c6u);
  EXPECT_EQ(x.word[3][0], 0x6d5451fdu);
}

TEST(PhiloxLanes, UniformIsSymmetricAndOpen) {
  EXPECT_EQ(uniform_from_words(0, 0), 0.5 * 0x1p-52);
  EXPECT_EQ(uniform_from_words(0xffffffffu, 0xffffffffu), 1 - 0.5 * 0x1p-52);
  EXPECT_EQ(uniform_from_words(0x80000000u, 0), 0.5 + 0.5 * 0x1p-52);
  // m and 2^52 - 1 - m give u and 1 - u exactly.
  for (std::uint64_t m : {1ULL, 12345ULL, (1ULL << 51) + 7, (1ULL << 52) - 2}) {
    const std::uint64_t a = m << 12, b = (((1ULL << 52) - 1) - m) << 12;
    const double ua =
        uniform_from_words(static_cast<std::uint32_t>(a >> 32), static_cast<std::uint32_t>(a));
    const double ub =
        uniform_from_words(static_cast<std::uint32_t>(b >> 32), static_cast<std::uint32_t>(b));
    EXPECT_EQ(2 * ua - 1, -(2 * ub - 1));
  }
}

}  // namespace
}  // namespace latdiff
