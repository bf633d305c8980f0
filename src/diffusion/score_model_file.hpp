// The model file of a trained score (diffusion.model_file; README "Score model files"): an HDF5
// file with the parameters of a LinearScore (linear_score.hpp) per noise level, the noise
// process they belong to, what they were trained on and how well they denoise. Layout:
//   root attributes  schema = "latdiff score model", schema_version = 2 (1: no block terms,
//                    still read), score = "linear",
//                    dimension, knots, process (vp | ve | sub_vp), levels, sigma_min,
//                    sigma_max, beta_min, beta_max, checksum (model_checksum), and the
//                    provenance: training_deck (resolved deck of the training run; not "deck",
//                    which marks chain files), version, created,
//                    seed, draws, lattice_dims, training_files (one path per line)
//   /score/knots     [knots]          u_j = phat^2 of knot j
//   /score/kernel    [N, knots]       h_i(u_j): the momentum kernel per level i = 1 ... N
//   /score/cubic     [N], /score/quintic [N]   c3_i, c5_i of the site-local terms
//   /score/block_sizes [S]            block sizes b of the block terms (0: the zero mode)
//   /score/block_cubic [N, S], /score/block_quintic [N, S]   c3_{i,b}, c5_{i,b}
//   /score/abar [N], /score/sbar2 [N]          the level's q(x_i | x_0) coefficients
//   /loss/train [N], /loss/holdout [N]         denoising loss per level (holdout NaN if none)
//   /training/file_index, /training/step, /training/holdout [n]   per training configuration
// The fitted couplings against the noise level are the coarse-graining (RG-flow) view of the
// score: the kernel's curvature in phat^2 and c3, c5 at every block size flow as fluctuations
// are integrated out.
//
// Written atomically by rank 0 (temporary file, fsync, rename); read by every rank. Both are
// collective over `comm` and throw IoError with one line naming the file, alike on every rank.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "diffusion/noise_process.hpp"
#include "diffusion/score_basis.hpp"

namespace latdiff {

struct ScoreModelFile {
  int dimension = 0;  // d of the lattices it was trained on (the hat basis spans [0, 4d])
  ScoreBasis basis;
  NoiseSchedule schedule;
  // Per level i - 1, basis.parameters() values: the kernel at the knots, then c3, c5 of the
  // site field and of each block size (linear_score.hpp).
  std::vector<std::vector<double>> theta;
  std::vector<double> train_loss, holdout_loss;  // per level
  // Provenance, per training configuration: which file (index into files), its step, whether
  // it was held out of the fit.
  std::vector<std::string> files;
  std::vector<std::int64_t> file_index, step, held_out;
  std::vector<int> lattice_dims;
  std::string deck, version, created;
  std::uint64_t seed = 0;
  int draws = 0;
};

// What identifies the model: the checksum of its dimension, basis, schedule and parameters
// (bit patterns), which a chain run with it records (attribute "model_checksum"). Without block
// terms it is that of schema version 1, so such files keep their checksum.
std::uint64_t model_checksum(const ScoreModelFile& m);

// Collective over comm. Writes m to path atomically (rank 0).
void write_score_model(const std::string& path, const ScoreModelFile& m, MPI_Comm comm);

// Collective over comm. Reads and checks a model file: schema, shapes and checksum (a mismatch
// is "corrupt").
ScoreModelFile read_score_model(const std::string& path, MPI_Comm comm);

}  // namespace latdiff
