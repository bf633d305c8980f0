// The model file of an RBM (models/rbm.hpp): an HDF5 file with its parameters and what it was
// trained on. Layout:
//   root attributes  schema = "latdiff rbm model", schema_version = 1, visible_units,
//                    hidden_units (binary | spin | gaussian), n_visible, n_hidden, and the
//                    provenance trained_on (free text: data files, deck), version, created
//   /rbm/weights [n_visible, n_hidden]   W
//   /rbm/visible_bias [n_visible]        a (Gaussian units: mu)
//   /rbm/hidden_bias [n_hidden]          b
//   /rbm/visible_sigma [n_visible]       Gaussian units only: s
// Written atomically by rank 0 (temporary file, fsync, rename; a failed write leaves no
// temporary file); read by every rank. Both are collective over `comm` and throw IoError with
// one line naming the file, alike on every rank: a missing or foreign file, another schema
// version, inconsistent shapes or non-finite parameters.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "models/rbm.hpp"

namespace latdiff {

struct RbmModelFile {
  RbmParameters parameters;
  std::string trained_on, version, created;
};

// What identifies the model: a checksum of its unit kinds, sizes and parameters (bit
// patterns), part of the identity of a chain run with it (output attribute "model_checksum").
// Local.
std::uint64_t rbm_checksum(const RbmParameters& p);

void write_rbm_model(const std::string& path, const RbmModelFile& m, MPI_Comm comm);
RbmModelFile read_rbm_model(const std::string& path, MPI_Comm comm);

}  // namespace latdiff
