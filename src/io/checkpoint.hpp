// Checkpoints (DESIGN.md §5): the configuration as dataset "/phi" of shape [L_0, ..., L_{d-1}]
// in global row-major order, the chain state as root attributes, and a checksum that is the
// same for every decomposition. Written atomically (temporary file, fsync, rename), so a kill
// at any moment leaves either the old or the new checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/hdf5_handle.hpp"
#include "io/output_file.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

struct CheckpointError : IoError {
  using IoError::IoError;
};

// How this latdiff turns (deck, seed) into a chain, where that changed between versions:
//   1  until the SIMD Metropolis sweep (Philox4x64 per site and hit);
//   2  Metropolis from Philox4x32 lanes, counter (site, hit, update) (samplers/metropolis.hpp);
//      Gaussian noise by an inline Box-Muller (samplers/gaussian_noise.hpp) and HMC's H summed
//      as one term per site, which move the last bits of HMC, Langevin, MALA and diffusion.
// A checkpoint records it (attribute "chain_format"; absent means 1), so a chain of another
// format is not continued as if nothing had changed (app/resume.hpp).
inline constexpr std::int64_t kChainFormat = 2;

struct ChainState {
  std::int64_t updates_done = 0;  // updates completed, thermalization included
  RecordCounts counts;            // rows in the output file that belong to the chain so far
  std::string deck_text;          // resolved deck the chain was run with
  // Partial block of /correlators and /coarse (block mode): running sums of every recorded
  // quantity and the number of measurements in them (empty and 0 when not in block mode).
  std::vector<double> block_sums;
  std::int64_t block_fill = 0;
  std::int64_t chain_format = kChainFormat;  // of the binary that wrote it; not checksummed
  friend bool operator==(const ChainState&, const ChainState&) = default;
};

// Collective over g.comm(). Checksum of a checkpoint: the wrapping sum over sites of
// splitmix64(splitmix64(global index) ^ bits of the value), folded with the lattice extents and
// the state fields. Identical for every process grid.
std::uint64_t checkpoint_checksum(const Geometry& g, const Field& phi, const ChainState& s);

// Collective over g.comm(). Writes phi's interior (collective write of "/phi") and the state
// (rank 0's; attributes "updates_done", "observables_rows", "sampler_rows",
// "configurations_rows", "correlators_rows", "coarse_rows", "block_fill", "deck", "checksum",
// "chain_format",
// and the 1-D dataset "/block_sums") to path + ".tmp", closes it, reads it back and verifies
// the checksum, fsyncs it, and rank 0 renames it to path and fsyncs the directory
// (replace_file); on return every rank sees the new file. Throws CheckpointError naming the file on
// failure, with the previous checkpoint at path left in place.
void write_checkpoint(const std::string& path, const Geometry& g, const Field& phi,
                      const ChainState& s);

// Collective over g.comm(). Reads the checkpoint into phi's interior (halo untouched; phi
// untouched on error) and returns the state. Throws CheckpointError with one line naming the
// file when it is missing, unreadable or not HDF5, lacks a dataset or attribute, holds another
// lattice shape, or fails the checksum ("corrupt").
ChainState read_checkpoint(const std::string& path, const Geometry& g, Field& phi);

}  // namespace latdiff
