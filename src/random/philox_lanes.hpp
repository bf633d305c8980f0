// Philox4x32-10 (Salmon et al. 2011; bit for bit Random123's philox4x32, which the tests
// check) evaluated for a block of independent counters at once. The rounds run over the
// lanes of plain arrays with 32x32 -> 64-bit products only, so the compiler maps the lanes
// onto SIMD registers (vpmuludq); Random123's Philox4x64, whose 64x64 -> 128-bit products
// have no SIMD form, stays the generator of everything that is not a hot per-site loop
// (counter_rng.hpp).
//
// Like CounterRng it has no state: a counter's numbers depend on (key, counter) alone, so
// per-site draws are the same on every decomposition and after every restart.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace latdiff {

// Lanes are processed in groups of kPhiloxGroup (one SIMD register of 32-bit words).
#if defined(__AVX512F__)
inline constexpr int kPhiloxGroup = 16;
#elif defined(__AVX2__)
inline constexpr int kPhiloxGroup = 8;
#else
inline constexpr int kPhiloxGroup = 1;
#endif

template <std::size_t N>
struct alignas(64) PhiloxLanes {
  static_assert(N % kPhiloxGroup == 0);
  // Counter words on input, random words on output: word w of lane i is word[w][i].
  std::uint32_t word[4][N];
};

namespace philox_detail {
inline constexpr std::uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;
inline constexpr std::uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;

#if defined(__AVX512F__) || defined(__AVX2__)
// One register's worth of lanes, with the 32x32 -> 64-bit products of vpmuludq on the even
// and (shifted down) odd words, recombined into the high and low halves. The zero-masked
// AVX-512 forms keep GCC 12 from warning about the undefined source of the plain ones.
#if defined(__AVX512F__)
using Reg = __m512i;
#else
using Reg = __m256i;
#endif
struct HiLo {
  Reg hi, lo;
};
#if defined(__AVX512F__)
inline Reg load(const std::uint32_t* p) {
  return _mm512_load_si512(p);
}
inline void store(std::uint32_t* p, Reg v) {
  _mm512_store_si512(p, v);
}
inline Reg broadcast(std::uint32_t x) {
  return _mm512_set1_epi32(static_cast<int>(x));
}
inline Reg xor3(Reg a, Reg b, Reg c) {
  return _mm512_ternarylogic_epi32(a, b, c, 0x96);
}
inline HiLo mulhilo(Reg a, Reg m) {
  constexpr __mmask8 kAll = 0xff;
  const Reg even = _mm512_maskz_mul_epu32(kAll, a, m);
  const Reg odd = _mm512_maskz_mul_epu32(kAll, _mm512_maskz_srli_epi64(kAll, a, 32), m);
  return {_mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(kAll, even, 32), odd),
          _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(kAll, odd, 32))};
}
#else
inline Reg load(const std::uint32_t* p) {
  return _mm256_load_si256(reinterpret_cast<const Reg*>(p));
}
inline void store(std::uint32_t* p, Reg v) {
  _mm256_store_si256(reinterpret_cast<Reg*>(p), v);
}
inline Reg broadcast(std::uint32_t x) {
  return _mm256_set1_epi32(static_cast<int>(x));
}
inline Reg xor3(Reg a, Reg b, Reg c) {
  return _mm256_xor_si256(_mm256_xor_si256(a, b), c);
}
inline HiLo mulhilo(Reg a, Reg m) {
  const Reg even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  return {_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA),
          _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA)};
}
#endif
#endif
}  // namespace philox_detail

// Replaces the counters of lanes 0..n-1 (n <= N) by Philox4x32-10(counter, key), the key's
// low word first. Lanes from n up to the next multiple of kPhiloxGroup are overwritten too.
template <std::size_t N>
inline void philox4x32_10(PhiloxLanes<N>& x, std::uint64_t key, int n = static_cast<int>(N)) {
  using namespace philox_detail;
  const std::uint32_t key0 = static_cast<std::uint32_t>(key);
  const std::uint32_t key1 = static_cast<std::uint32_t>(key >> 32);
#if defined(__AVX512F__) || defined(__AVX2__)
  const Reg m0 = broadcast(kM0), m1 = broadcast(kM1);
  for (int i = 0; i < n; i += kPhiloxGroup) {
    Reg c0 = load(&x.word[0][i]), c1 = load(&x.word[1][i]);
    Reg c2 = load(&x.word[2][i]), c3 = load(&x.word[3][i]);
    std::uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const HiLo p0 = mulhilo(c0, m0), p1 = mulhilo(c2, m1);
      c0 = xor3(p1.hi, c1, broadcast(k0));
      c1 = p1.lo;
      c2 = xor3(p0.hi, c3, broadcast(k1));
      c3 = p0.lo;
      k0 += kW0;
      k1 += kW1;
    }
    store(&x.word[0][i], c0);
    store(&x.word[1][i], c1);
    store(&x.word[2][i], c2);
    store(&x.word[3][i], c3);
  }
#else
  std::uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < n; ++i) {
      const std::uint64_t p0 = std::uint64_t{kM0} * x.word[0][i];
      const std::uint64_t p1 = std::uint64_t{kM1} * x.word[2][i];
      const std::uint32_t c1 = x.word[1][i], c3 = x.word[3][i];
      x.word[0][i] = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
      x.word[1][i] = static_cast<std::uint32_t>(p1);
      x.word[2][i] = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
      x.word[3][i] = static_cast<std::uint32_t>(p0);
    }
    k0 += kW0;
    k1 += kW1;
  }
#endif
}

// A uniform in (0, 1) from two random words: the top 52 of their 64 bits, m, give
// (m + 1/2) / 2^52, so u and 1 - u are equally likely (a proposal phi + s (2u - 1) is exactly
// symmetric) and neither 0 nor 1 occurs. Built from the bits of 2^52 + m so that it vectorises
// without a 64-bit integer conversion.
inline double uniform_from_words(std::uint32_t high, std::uint32_t low) {
  const std::uint64_t m = ((std::uint64_t{high} << 32) | low) >> 12;
  const double two52_plus_m = std::bit_cast<double>(m | 0x4330000000000000);
  return (two52_plus_m - (0x1p52 - 0.5)) * 0x1p-52;
}

}  // namespace latdiff
