// The run's HDF5 output file (DESIGN.md §5): root attributes with the resolved deck and run
// metadata, extendible 1-D series of observables and sampler statistics, and saved
// configurations as /configurations/phi of shape [n, L_0, ..., L_{d-1}] in global row-major
// order. The file is opened and closed by every call, so a killed run leaves it consistent
// except for at most the call in progress. Functions without a Geometry use MPI_COMM_WORLD.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/hdf5_handle.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

// Inputs besides the deck that define a chain, by checksum (root attributes when set).
struct ChainInputs {
  // attribute "start_checksum": checkpoint_checksum of the start field when run.start is a file
  std::optional<std::uint64_t> start_checksum;
  // attribute "model_checksum": the models the chain runs with, read from files: the trained
  // score of a diffusion chain (diffusion/score_model_file.hpp's model_checksum), an RBM
  // (models/rbm_model_file.hpp's rbm_checksum), or both folded together (app/simulation.cpp)
  std::optional<std::uint64_t> model_checksum;
  friend bool operator==(const ChainInputs&, const ChainInputs&) = default;
};

struct RunMetadata {       // root attributes of the output file
  std::string deck_text;   // full resolved deck (attribute "deck")
  std::string version;     // git describe (attribute "version")
  std::string start_time;  // ISO 8601 (attribute "start_time")
  std::uint64_t seed = 0;  // attribute "seed"
  int nranks = 0;          // attribute "nranks"
  std::vector<int> procs;  // attribute "process_grid" (int array)
  std::vector<int> dims;   // attribute "lattice_dims"
  ChainInputs inputs;
};

struct Records {                   // rows buffered in memory since the last write
  std::vector<std::int64_t> step;  // /observables/step (update number of the measurement)
  std::vector<double> mag, phi2, action_density, nn;  // /observables/mag, phi2, action_density, nn
  std::vector<double> accept;   // /sampler/accept (one row per update, thermalization included)
  std::vector<double> delta_h;  // /sampler/delta_h (HMC only; empty otherwise)
  // /sampler/log_weight, /sampler/ess (diffusion samplers only; empty otherwise)
  std::vector<double> log_weight, ess;
  std::vector<std::int64_t> correlators_step;  // /correlators/step
  std::vector<std::int64_t> coarse_step;       // /coarse/step
  // Float64 rows of the /correlators and /coarse datasets, by dataset path: whole rows,
  // flattened row-major, as many rows as the group's step series.
  std::map<std::string, std::vector<double>> rows;
  void clear();
};

struct RecordCounts {
  std::int64_t observables = 0, sampler = 0, configurations = 0;
  std::int64_t correlators = 0, coarse = 0;  // rows of /correlators/step, /coarse/step
  friend bool operator==(const RecordCounts&, const RecordCounts&) = default;
};

// Collective. Creates path, replacing an existing file; the file is built as path + ".tmp" and
// renamed when complete (replace_file), so a crash leaves no half-made file at path. Writes the
// root attributes (rank 0's values; "start_checksum" and "model_checksum" only when set);
// creates empty extendible chunked 1-D datasets /observables/{step,mag,phi2,action_density,nn},
// /sampler/accept, /sampler/delta_h (only if with_delta_h), /configurations/step, and
// /configurations/phi of shape [0, L_0, ..., L_{d-1}] (meta.dims), extendible along the first
// axis, chunked by one configuration (split along the leading lattice axes when very large).
//
// Optional groups (`extra`): each group is created, with attribute "dims" when given; each
// series is an extendible int64 1-D dataset, each row dataset an extendible float64 dataset
// of shape [0, shape...] chunked by whole rows, and each fixed dataset an int64 1-D dataset
// written with its values.
struct ExtraGroup {
  std::string name;       // e.g. "/coarse/level_1" (parents listed before children)
  std::vector<int> dims;  // attribute "dims" when non-empty
};
struct RowDatasetSpec {
  std::string name;                // e.g. "/correlators/G"
  std::vector<std::size_t> shape;  // shape of one row (empty: a scalar per row)
};
struct ExtraOutput {
  // /sampler/log_weight and /sampler/ess, float64 series with a row per update like
  // /sampler/accept (diffusion samplers).
  bool path_weights = false;
  std::vector<ExtraGroup> groups;
  std::vector<std::string> step_series;  // int64 series, e.g. "/correlators/step"
  std::vector<RowDatasetSpec> rows;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> fixed;
};
void create_output(const std::string& path, const RunMetadata& meta, bool with_delta_h,
                   const ExtraOutput& extra = {});

// Collective. Opens path read-write, appends all rows of r (rank 0's rows, written by rank 0),
// closes. The four observables series must have equal length; delta_h (log_weight, ess) must
// have as many rows as accept when the file has /sampler/delta_h (/sampler/log_weight) and be
// empty otherwise. Every entry of r.rows
// (identical keys on every rank) gets as many rows as correlators_step (names under
// /correlators) or coarse_step (under /coarse).
void append_records(const std::string& path, const Records& r);

// Collective over g.comm(). Appends phi's interior (global row-major, collective hyperslab
// write) as the next /configurations/phi entry, and step to /configurations/step.
void append_configuration(const std::string& path, const Geometry& g, const Field& phi,
                          std::int64_t step);

// Collective. Current row counts: /observables/step, /sampler/accept, /configurations/step,
// /correlators/step and /coarse/step (0 where absent).
RecordCounts record_counts(const std::string& path);

// Collective. Shrinks every dataset of each group to the given count (rows written after the
// last checkpoint are discarded on resume). Throws IoError if the file has fewer rows.
void truncate_output(const std::string& path, const RecordCounts& counts);

// Collective over g.comm(). Reads configuration `index` (-1 = last) of /configurations/phi into
// phi's interior (halo untouched; phi untouched on error). Throws IoError naming the file if it
// is unreadable, has no configurations, index is out of range, or the stored lattice shape
// differs from g.global_dims().
void read_configuration(const std::string& path, std::int64_t index, const Geometry& g, Field& phi);

// Collective. The resolved deck stored in the root attribute "deck".
std::string read_output_deck(const std::string& path);

// What identifies the chain of a latdiff output file or checkpoint: its root attributes
// "deck" and, where present, "start_checksum" and "model_checksum".
struct ChainIdentity {
  std::string deck;
  ChainInputs inputs;
};
// Collective. The identity of an existing file, or nothing when the file is not HDF5 or has no
// "deck" attribute.
std::optional<ChainIdentity> probe_chain(const std::string& path);

// Collective. Throws IoError naming the first dataset that a file written with this layout
// (create_output's with_delta_h and extra) must have and does not.
void require_layout(const std::string& path, bool with_delta_h, const ExtraOutput& extra);

// Collective. Whole 1-D dataset (e.g. "/observables/mag", "/sampler/accept") on every rank,
// converted to double.
std::vector<double> read_series(const std::string& path, const std::string& dataset);

}  // namespace latdiff
