// A -march=native build (LATDIFF_NATIVE, the default) uses the SIMD extensions of the machine
// it was compiled on; on a CPU without them it would die of SIGILL somewhere in a sweep.
#pragma once

namespace latdiff {

// Local, before MPI starts: if this CPU lacks an instruction-set extension the binary was
// compiled for, writes one line naming it and the remedy to stderr and exits with code 1.
void refuse_missing_cpu_features();

}  // namespace latdiff
