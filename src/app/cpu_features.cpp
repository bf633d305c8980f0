#include "app/cpu_features.hpp"

#include <cstdio>
#include <cstdlib>

namespace latdiff {

void refuse_missing_cpu_features() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const char* missing = nullptr;
  // The extensions the compiler may have used, as the build's predefined macros say.
#define LATDIFF_REQUIRE(name) \
  if (!missing && !__builtin_cpu_supports(name)) missing = name;
#ifdef __AVX2__
  LATDIFF_REQUIRE("avx2")
#endif
#ifdef __FMA__
  LATDIFF_REQUIRE("fma")
#endif
#ifdef __BMI2__
  LATDIFF_REQUIRE("bmi2")
#endif
#ifdef __AVX512F__
  LATDIFF_REQUIRE("avx512f")
#endif
#ifdef __AVX512BW__
  LATDIFF_REQUIRE("avx512bw")
#endif
#ifdef __AVX512DQ__
  LATDIFF_REQUIRE("avx512dq")
#endif
#ifdef __AVX512VL__
  LATDIFF_REQUIRE("avx512vl")
#endif
#undef LATDIFF_REQUIRE
  if (missing) {
    std::fprintf(stderr,
                 "latdiff: error: this binary was built for a CPU with %s (LATDIFF_NATIVE=ON) and "
                 "this CPU lacks it; rebuild here, or with -DLATDIFF_NATIVE=OFF for any x86-64\n",
                 missing);
    std::exit(1);
  }
#endif
}

}  // namespace latdiff
