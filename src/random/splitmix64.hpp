// splitmix64 (Steele, Lea and Flood 2014): a bijective 64-bit mixer. Used to hash values into
// checksums and to derive seeds of auxiliary chains from run.seed; not a random stream.
#pragma once

#include <cstdint>

namespace latdiff {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace latdiff
