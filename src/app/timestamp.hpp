// Wall-clock time stamps for file metadata.
#pragma once

#include <string>

namespace latdiff {

// The current UTC time as ISO 8601, e.g. "2026-12-01T09:50:02Z". Local, not collective.
std::string now_iso8601();

}  // namespace latdiff
