// The program version recorded in every output and model file and printed by --version:
// `git describe --always --dirty --tags` of the source tree when latdiff was last built
// (regenerated at every build by cmake/write_version.cmake, "unknown" outside a git checkout).
#pragma once

namespace latdiff {
extern const char* const kLatdiffVersion;
}  // namespace latdiff
