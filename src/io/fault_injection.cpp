#include "io/fault_injection.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace latdiff {

namespace {

struct FaultPlan {
  std::string point;  // empty: no fault injection
  long visit = 1;
  long seen = 0;
};

FaultPlan& plan() {
  static FaultPlan p = [] {
    FaultPlan f;
    const char* env = std::getenv("LATDIFF_FAULT");
    if (!env) return f;
    const std::string spec = env;
    const auto colon = spec.find(':');
    f.point = spec.substr(0, colon);
    if (colon != std::string::npos) f.visit = std::strtol(spec.c_str() + colon + 1, nullptr, 10);
    return f;
  }();
  return p;
}

}  // namespace

void fault_point(const char* name) {
  FaultPlan& p = plan();
  if (p.point.empty() || p.point != name) return;
  if (++p.seen == p.visit) _exit(kFaultExitCode);
}

}  // namespace latdiff
