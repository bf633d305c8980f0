// Checks of a run's files and size before its first update. Every check is collective and
// reaches the same verdict on every rank (file-system look-ups are made by rank 0 and
// broadcast), and throws InputError (app/errors.hpp) naming the deck key.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/config.hpp"
#include "io/output_file.hpp"

namespace latdiff {

// Collective. Whether `path` exists; a name the file system refuses (too long, a symlink
// loop) is an InputError naming `key`.
bool file_exists(const std::string& key, const std::string& path, MPI_Comm comm);

// Collective. A fresh chain may replace the file at `path` (deck key `key`) only when it is
// missing or empty, holds this same chain (which the run then regenerates bit for bit, so
// nothing is lost), or output.overwrite is set; anything else is another chain's data, or a
// file that is not ours to destroy, and is refused. `inputs` are the checksums this chain has
// set (of the start field when run.start is a file, and of its model files): the file's chain
// must have been run with the same.
void check_replaceable(const Config& cfg, const std::string& key, const std::string& path,
                       MPI_Comm comm, const ChainInputs& inputs = {});

// Local. The deck keys and paths of the model files a chain's identity includes by checksum
// (ChainInputs::model_checksum): rbm.model_file and/or diffusion.model_file.
std::vector<std::pair<std::string, std::string>> model_files(const Config& cfg);

// Collective. The files the run reads and writes (output.file, output.checkpoint; for a
// trained score, diffusion.model_file with its warm-up output and checkpoint; for an RBM,
// rbm.model_file, rbm_training.output and rbm_training.data) must be distinct files, compared
// by canonical path (symbolic links and ./ resolved) on rank 0; otherwise InputError naming
// both keys.
void check_distinct_files(const Config& cfg, MPI_Comm comm);

// Collective. A file written atomically (`path`.tmp, then renamed over `path`, deck key `key`):
// refuses, before the work that produces it, what would make that fail (a directory at
// `path`.tmp) or replace something that is not ours (a symbolic link to a missing file would
// be replaced, the link lost).
void check_atomic_target(const std::string& key, const std::string& path, MPI_Comm comm);

// Collective. rbm_training.output may be replaced only when it is missing or empty, is the
// training record of this same deck (training regenerates it bit for bit), or
// output.overwrite is set.
void check_training_record_replaceable(const Config& cfg, MPI_Comm comm);

// Collective. Refuses, before anything is allocated, a lattice whose fields cannot fit in the
// physical memory of a node (lattice.dims, with the memory needed).
void check_memory(const Config& cfg, MPI_Comm comm);

}  // namespace latdiff
