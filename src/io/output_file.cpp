#include "io/output_file.hpp"

#include <algorithm>
#include <array>

#include "io/fault_injection.hpp"

namespace latdiff {

namespace {

int g_rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

constexpr const char* kStep = "/observables/step";
constexpr const char* kMag = "/observables/mag";
constexpr const char* kPhi2 = "/observables/phi2";
constexpr const char* kActionDensity = "/observables/action_density";
constexpr const char* kHopping = "/observables/nn";
constexpr const char* kAccept = "/sampler/accept";
constexpr const char* kDeltaH = "/sampler/delta_h";
constexpr const char* kLogWeight = "/sampler/log_weight";
constexpr const char* kEss = "/sampler/ess";
constexpr const char* kConfigStep = "/configurations/step";
constexpr const char* kConfigPhi = "/configurations/phi";

// Rows per chunk of a 1-D series (32 KiB of doubles): few chunks for long runs, little waste
// for short ones.
constexpr hsize_t kSeriesChunk = 4096;
// Upper bound for one configuration chunk; larger lattices are split along leading axes.
constexpr hsize_t kMaxConfigChunkBytes = hsize_t{64} << 20;

// Every row dataset with the RecordCounts field that counts its rows (0 observables,
// 1 sampler, 2 configurations); delta_h, log_weight and ess are optional.
struct RowDataset {
  const char* name;
  int group;
};
constexpr std::array<RowDataset, 11> kRowDatasets{{{kStep, 0},
                                                   {kMag, 0},
                                                   {kPhi2, 0},
                                                   {kActionDensity, 0},
                                                   {kHopping, 0},
                                                   {kAccept, 1},
                                                   {kDeltaH, 1},
                                                   {kLogWeight, 1},
                                                   {kEss, 1},
                                                   {kConfigStep, 2},
                                                   {kConfigPhi, 2}}};

bool has_dataset(hid_t file, const std::string& path, const char* name) {
  const htri_t e = H5Lexists(file, name, H5P_DEFAULT);
  if (e < 0) throw IoError(path + ": cannot look up " + name);
  return e > 0;
}

void create_group(hid_t file, const std::string& path, const char* name) {
  checked(H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, path,
          std::string("cannot create group ") + name);
}

// Empty dataset of shape [0, rest...], extendible along the first axis.
void create_extendible(hid_t file, const std::string& path, const char* name, hid_t type,
                       const std::vector<hsize_t>& rest, const std::vector<hsize_t>& chunk) {
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED};
  dims.insert(dims.end(), rest.begin(), rest.end());
  max_dims.insert(max_dims.end(), rest.begin(), rest.end());
  const std::string what = std::string("cannot create dataset ") + name;
  H5Handle space =
      checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()),
              H5Sclose, path, what);
  H5Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path, what);
  check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), path, what);
  // Every extension is written right away, so pre-filling new rows would only double the I/O.
  check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), path, what);
  checked(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose,
          path, what);
}

void create_series(hid_t file, const std::string& path, const char* name, hid_t type) {
  create_extendible(file, path, name, type, {}, {kSeriesChunk});
}

// One configuration per chunk, halving leading lattice axes while the chunk is too large.
std::vector<hsize_t> config_chunk(const std::vector<hsize_t>& lattice) {
  std::vector<hsize_t> chunk{1};
  chunk.insert(chunk.end(), lattice.begin(), lattice.end());
  auto bytes = [&] {
    hsize_t b = sizeof(double);
    for (hsize_t c : chunk) b *= c;
    return b;
  };
  for (std::size_t mu = 1; mu < chunk.size(); ++mu)
    while (bytes() > kMaxConfigChunkBytes && chunk[mu] > 1) chunk[mu] = (chunk[mu] + 1) / 2;
  return chunk;
}

// Collective over comm. Extends dataset `name` (shape [rows, rest...]) by n rows (n identical
// on all ranks) and writes root's data there: n whole rows of prod(rest) values, row-major.
// The other ranks take part in the collective write with an empty selection. The one path by
// which every series and row dataset grows.
void append_rows(hid_t file, const std::string& path, const char* name, hid_t mem_type,
                 const void* data, hsize_t n, MPI_Comm comm) {
  if (n == 0) return;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  H5Handle dset = open_dataset(file, path, name);
  std::vector<hsize_t> dims = extent(dset.get(), path, name);
  if (dims.empty()) throw IoError(path + ": " + name + " is a scalar, expected rows");
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = dims[0];
  count[0] = n;
  hsize_t values = 1;
  for (hsize_t c : count) values *= c;
  dims[0] += n;
  const std::string what = std::string("cannot append to ") + name;
  check(H5Dset_extent(dset.get(), dims.data()), path, what);
  H5Handle file_space = checked(H5Dget_space(dset.get()), H5Sclose, path, what);
  H5Handle mem_space = checked(H5Screate_simple(1, &values, nullptr), H5Sclose, path, what);
  if (rank == 0) {
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr),
          path, what);
  } else {
    check(H5Sselect_none(file_space.get()), path, what);
    check(H5Sselect_none(mem_space.get()), path, what);
  }
  H5Handle dxpl = collective_transfer(path);
  check(H5Dwrite(dset.get(), mem_type, mem_space.get(), file_space.get(), dxpl.get(), data), path,
        what);
}

// Values per row of dataset `name`.
hsize_t row_width(hid_t file, const std::string& path, const std::string& name) {
  H5Handle dset = open_dataset(file, path, name);
  const std::vector<hsize_t> dims = extent(dset.get(), path, name);
  if (dims.empty()) throw IoError(path + ": " + name + " is a scalar, expected rows");
  hsize_t w = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) w *= dims[i];
  return w;
}

// Whether every component of the absolute path `name` exists.
bool has_path(hid_t file, const std::string& path, const std::string& name) {
  for (std::size_t pos = name.find('/', 1);; pos = name.find('/', pos + 1)) {
    const std::string part = name.substr(0, pos);
    if (!has_dataset(file, path, part.c_str())) return false;
    if (pos == std::string::npos) return true;
  }
}

// The /correlators and /coarse row datasets present in the file, with the RecordCounts field
// that counts their rows (3 correlators, 4 coarse).
std::vector<std::pair<std::string, int>> extra_row_datasets(hid_t file, const std::string& path) {
  std::vector<std::pair<std::string, int>> out;
  for (const char* n : {"step", "G", "G_radial", "C", "G0", "Gpmin", "xi2"}) {
    const std::string name = std::string("/correlators/") + n;
    if (has_path(file, path, name)) out.emplace_back(name, 3);
  }
  if (has_path(file, path, "/coarse/step")) out.emplace_back("/coarse/step", 4);
  for (int k = 0; has_path(file, path, "/coarse/level_" + std::to_string(k)); ++k)
    for (const char* n : {"mag", "phi2", "nn", "G0", "Gpmin"}) {
      const std::string name = "/coarse/level_" + std::to_string(k) + "/" + n;
      if (has_path(file, path, name)) out.emplace_back(name, 4);
    }
  return out;
}

hsize_t rows(hid_t file, const std::string& path, const char* name) {
  H5Handle dset = open_dataset(file, path, name);
  const std::vector<hsize_t> dims = extent(dset.get(), path, name);
  if (dims.empty()) throw IoError(path + ": " + name + " is a scalar, expected rows");
  return dims[0];
}

}  // namespace

void Records::clear() {
  step.clear();
  mag.clear();
  phi2.clear();
  action_density.clear();
  nn.clear();
  accept.clear();
  delta_h.clear();
  log_weight.clear();
  ess.clear();
  correlators_step.clear();
  coarse_step.clear();
  rows.clear();
}

namespace {

void create_in(const std::string& path, const RunMetadata& m, bool with_delta_h,
               const ExtraOutput& extra, MPI_Comm comm) {
  H5Handle file = create_file(path, comm);
  write_attribute(file.get(), path, "deck", m.deck_text);
  write_attribute(file.get(), path, "version", m.version);
  write_attribute(file.get(), path, "start_time", m.start_time);
  write_attribute(file.get(), path, "seed", m.seed);
  write_attribute(file.get(), path, "nranks", m.nranks);
  write_attribute(file.get(), path, "process_grid", m.procs);
  write_attribute(file.get(), path, "lattice_dims", m.dims);
  if (m.inputs.start_checksum)
    write_attribute(file.get(), path, "start_checksum", *m.inputs.start_checksum);
  if (m.inputs.model_checksum)
    write_attribute(file.get(), path, "model_checksum", *m.inputs.model_checksum);

  for (const char* group : {"/observables", "/sampler", "/configurations"})
    create_group(file.get(), path, group);
  create_series(file.get(), path, kStep, H5T_STD_I64LE);
  for (const char* name : {kMag, kPhi2, kActionDensity, kHopping, kAccept})
    create_series(file.get(), path, name, H5T_IEEE_F64LE);
  if (with_delta_h) create_series(file.get(), path, kDeltaH, H5T_IEEE_F64LE);
  if (extra.path_weights)
    for (const char* name : {kLogWeight, kEss})
      create_series(file.get(), path, name, H5T_IEEE_F64LE);
  create_series(file.get(), path, kConfigStep, H5T_STD_I64LE);
  const std::vector<hsize_t> lattice(m.dims.begin(), m.dims.end());
  create_extendible(file.get(), path, kConfigPhi, H5T_IEEE_F64LE, lattice, config_chunk(lattice));

  // Extra groups: the same on every rank (built from the deck), rank 0's values written.
  for (const ExtraGroup& grp : extra.groups) {
    H5Handle gid =
        checked(H5Gcreate2(file.get(), grp.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Gclose, path, "cannot create group " + grp.name);
    if (!grp.dims.empty()) write_attribute(gid.get(), path, "dims", grp.dims);
  }
  for (const std::string& name : extra.step_series)
    create_series(file.get(), path, name.c_str(), H5T_STD_I64LE);
  for (const RowDatasetSpec& d : extra.rows) {
    const std::vector<hsize_t> rest(d.shape.begin(), d.shape.end());
    hsize_t width = 1;
    for (hsize_t c : rest) width *= c;
    // Chunks of whole rows, about kSeriesChunk values (at least one row).
    std::vector<hsize_t> chunk{std::max<hsize_t>(1, kSeriesChunk / width)};
    chunk.insert(chunk.end(), rest.begin(), rest.end());
    create_extendible(file.get(), path, d.name.c_str(), H5T_IEEE_F64LE, rest, chunk);
  }
  for (const auto& [name, values] : extra.fixed) {
    const std::string what = "cannot create dataset " + name;
    const hsize_t n = values.size();
    H5Handle space = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, path, what);
    H5Handle dset = checked(H5Dcreate2(file.get(), name.c_str(), H5T_STD_I64LE, space.get(),
                                       H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            H5Dclose, path, what);
    H5Handle mem = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, path, what);
    H5Handle fsp = checked(H5Dget_space(dset.get()), H5Sclose, path, what);
    if (g_rank(MPI_COMM_WORLD) != 0) {
      check(H5Sselect_none(mem.get()), path, what);
      check(H5Sselect_none(fsp.get()), path, what);
    }
    H5Handle dxpl = collective_transfer(path);
    check(H5Dwrite(dset.get(), H5T_NATIVE_INT64, mem.get(), fsp.get(), dxpl.get(), values.data()),
          path, what);
  }
  close_file(file, path);
}

}  // namespace

void create_output(const std::string& path, const RunMetadata& meta, bool with_delta_h,
                   const ExtraOutput& extra) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  RunMetadata m = meta;
  bcast_from_root(m.deck_text, comm);
  bcast_from_root(m.version, comm);
  bcast_from_root(m.start_time, comm);
  bcast_from_root(m.procs, comm);
  bcast_from_root(m.dims, comm);
  MPI_Bcast(&m.seed, 1, MPI_UINT64_T, 0, comm);
  MPI_Bcast(&m.nranks, 1, MPI_INT, 0, comm);
  bcast_from_root(m.inputs.start_checksum, comm);
  bcast_from_root(m.inputs.model_checksum, comm);

  // Built under a temporary name and renamed when complete, so that a crash never leaves a
  // half-made output file in the way of the rerun.
  const std::string tmp = path + ".tmp";
  create_in(tmp, m, with_delta_h, extra, comm);
  replace_file(tmp, path, comm);
  fault_point("after_create");
}

void append_records(const std::string& path, const Records& r) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  // Rank 0's rows are written, so its row counts decide every extent.
  std::array<unsigned long long, 9> n{r.step.size(),           r.mag.size(),    r.phi2.size(),
                                      r.action_density.size(), r.accept.size(), r.delta_h.size(),
                                      r.log_weight.size(),     r.ess.size(),    r.nn.size()};
  MPI_Bcast(n.data(), static_cast<int>(n.size()), MPI_UNSIGNED_LONG_LONG, 0, comm);
  if (n[1] != n[0] || n[2] != n[0] || n[3] != n[0] || n[8] != n[0])
    throw IoError(path + ": observables records of unequal length");

  H5Handle file = open_file(path, H5F_ACC_RDWR, comm);
  {
    const bool with_delta_h = has_dataset(file.get(), path, kDeltaH);
    if (with_delta_h && n[5] != n[4])
      throw IoError(path + ": delta_h and accept records of unequal length");
    if (!with_delta_h && n[5] != 0)
      throw IoError(path + ": delta_h records for a file without " + kDeltaH);
    const bool with_weights = has_dataset(file.get(), path, kLogWeight);
    if (with_weights ? n[6] != n[4] || n[7] != n[4] : n[6] + n[7] != 0)
      throw IoError(path + ": log_weight and ess records do not match " + kLogWeight);
    const hid_t f = file.get();
    append_rows(f, path, kStep, H5T_NATIVE_INT64, r.step.data(), n[0], comm);
    append_rows(f, path, kMag, H5T_NATIVE_DOUBLE, r.mag.data(), n[1], comm);
    append_rows(f, path, kPhi2, H5T_NATIVE_DOUBLE, r.phi2.data(), n[2], comm);
    append_rows(f, path, kActionDensity, H5T_NATIVE_DOUBLE, r.action_density.data(), n[3], comm);
    append_rows(f, path, kHopping, H5T_NATIVE_DOUBLE, r.nn.data(), n[8], comm);
    append_rows(f, path, kAccept, H5T_NATIVE_DOUBLE, r.accept.data(), n[4], comm);
    if (with_delta_h)
      append_rows(f, path, kDeltaH, H5T_NATIVE_DOUBLE, r.delta_h.data(), n[5], comm);
    if (with_weights) {
      append_rows(f, path, kLogWeight, H5T_NATIVE_DOUBLE, r.log_weight.data(), n[6], comm);
      append_rows(f, path, kEss, H5T_NATIVE_DOUBLE, r.ess.data(), n[7], comm);
    }

    std::array<unsigned long long, 2> ns{r.correlators_step.size(), r.coarse_step.size()};
    MPI_Bcast(ns.data(), 2, MPI_UNSIGNED_LONG_LONG, 0, comm);
    if (ns[0] > 0)
      append_rows(f, path, "/correlators/step", H5T_NATIVE_INT64, r.correlators_step.data(), ns[0],
                  comm);
    if (ns[1] > 0)
      append_rows(f, path, "/coarse/step", H5T_NATIVE_INT64, r.coarse_step.data(), ns[1], comm);
    for (const auto& [name, values] : r.rows) {
      const unsigned long long n_rows = name.rfind("/correlators/", 0) == 0 ? ns[0] : ns[1];
      if (values.size() != n_rows * row_width(f, path, name))
        throw IoError(path + ": " + name + " records do not match its step series");
      append_rows(f, path, name.c_str(), H5T_NATIVE_DOUBLE, values.data(), n_rows, comm);
    }
  }
  close_file(file, path);
  fault_point("after_append");
}

void append_configuration(const std::string& path, const Geometry& g, const Field& phi,
                          std::int64_t step) {
  const std::vector<double> packed = pack_interior(g, phi);
  H5Handle file = open_file(path, H5F_ACC_RDWR, g.comm());
  {
    H5Handle dset = open_dataset(file.get(), path, kConfigPhi);
    std::vector<hsize_t> dims = extent(dset.get(), path, kConfigPhi);
    check_lattice_shape(dims, 1, g, path, kConfigPhi);
    if (rows(file.get(), path, kConfigStep) != dims[0])
      throw IoError(path + ": " + kConfigStep + " and " + kConfigPhi + " differ in length");
    const hsize_t slot = dims[0]++;
    check(H5Dset_extent(dset.get(), dims.data()), path,
          std::string("cannot append to ") + kConfigPhi);
    write_block(dset.get(), path, g, packed, slot);
    append_rows(file.get(), path, kConfigStep, H5T_NATIVE_INT64, &step, 1, g.comm());
  }
  close_file(file, path);
  fault_point("after_append");
}

RecordCounts record_counts(const std::string& path) {
  H5Handle file = open_file(path, H5F_ACC_RDONLY, MPI_COMM_WORLD);
  RecordCounts c;
  c.observables = static_cast<std::int64_t>(rows(file.get(), path, kStep));
  c.sampler = static_cast<std::int64_t>(rows(file.get(), path, kAccept));
  c.configurations = static_cast<std::int64_t>(rows(file.get(), path, kConfigStep));
  if (has_path(file.get(), path, "/correlators/step"))
    c.correlators = static_cast<std::int64_t>(rows(file.get(), path, "/correlators/step"));
  if (has_path(file.get(), path, "/coarse/step"))
    c.coarse = static_cast<std::int64_t>(rows(file.get(), path, "/coarse/step"));
  close_file(file, path);
  return c;
}

void truncate_output(const std::string& path, const RecordCounts& counts) {
  const std::array<std::int64_t, 5> keep{counts.observables, counts.sampler, counts.configurations,
                                         counts.correlators, counts.coarse};
  H5Handle file = open_file(path, H5F_ACC_RDWR, MPI_COMM_WORLD);
  {
    std::vector<std::pair<std::string, int>> datasets;
    for (const RowDataset& d : kRowDatasets)
      if (has_dataset(file.get(), path, d.name)) datasets.emplace_back(d.name, d.group);
    for (auto& d : extra_row_datasets(file.get(), path)) datasets.push_back(std::move(d));
    // Check every dataset before shrinking any, so that a refused request changes nothing.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& [name, group] : datasets) {
        H5Handle dset = open_dataset(file.get(), path, name);
        std::vector<hsize_t> dims = extent(dset.get(), path, name);
        const std::int64_t n = keep[group];
        if (n < 0 || dims.empty() || dims[0] < static_cast<hsize_t>(n))
          throw IoError(path + ": cannot truncate " + name + " to " + std::to_string(n) +
                        " rows, it has " + std::to_string(dims.empty() ? 0 : dims[0]));
        if (pass == 1) {
          dims[0] = static_cast<hsize_t>(n);
          check(H5Dset_extent(dset.get(), dims.data()), path, "cannot truncate " + name);
        }
      }
    }
  }
  close_file(file, path);
  fault_point("after_truncate");
}

void read_configuration(const std::string& path, std::int64_t index, const Geometry& g,
                        Field& phi) {
  H5Handle file = open_file(path, H5F_ACC_RDONLY, g.comm());
  std::vector<double> packed;
  {
    H5Handle dset = open_dataset(file.get(), path, kConfigPhi);
    const std::vector<hsize_t> dims = extent(dset.get(), path, kConfigPhi);
    check_lattice_shape(dims, 1, g, path, kConfigPhi);
    const auto n = static_cast<std::int64_t>(dims[0]);
    if (n == 0) throw IoError(path + ": no configurations stored in " + kConfigPhi);
    if (index == -1) index = n - 1;
    if (index < 0 || index >= n)
      throw IoError(path + ": configuration index " + std::to_string(index) + " out of range (" +
                    std::to_string(n) + " stored)");
    packed = read_block(dset.get(), path, g, static_cast<hsize_t>(index));
  }
  close_file(file, path);
  unpack_interior(g, packed, phi);
}

std::vector<double> read_series(const std::string& path, const std::string& dataset) {
  H5Handle file = open_file(path, H5F_ACC_RDONLY, MPI_COMM_WORLD);
  std::vector<double> values;
  {
    H5Handle dset = open_dataset(file.get(), path, dataset);
    const std::vector<hsize_t> dims = extent(dset.get(), path, dataset);
    if (dims.size() != 1) throw IoError(path + ": " + dataset + " is not one-dimensional");
    values.resize(dims[0]);
    H5Handle dxpl = collective_transfer(path);
    if (!values.empty())
      check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl.get(), values.data()),
            path, "cannot read " + dataset);
  }
  close_file(file, path);
  return values;
}

std::optional<ChainIdentity> probe_chain(const std::string& path) {
  H5Handle file;
  try {
    file = open_file(path, H5F_ACC_RDONLY, MPI_COMM_WORLD);
  } catch (const IoError&) {
    return std::nullopt;
  }
  std::optional<ChainIdentity> id;
  // Present but unreadable or of another type: not a latdiff file.
  try {
    if (H5Aexists(file.get(), "deck") > 0)
      id = ChainIdentity{read_string_attribute(file.get(), path, "deck"), {}};
    if (id && H5Aexists(file.get(), "start_checksum") > 0)
      id->inputs.start_checksum = read_uint64_attribute(file.get(), path, "start_checksum");
    if (id && H5Aexists(file.get(), "model_checksum") > 0)
      id->inputs.model_checksum = read_uint64_attribute(file.get(), path, "model_checksum");
  } catch (const IoError&) {
    id.reset();
  }
  close_file(file, path);
  return id;
}

void require_layout(const std::string& path, bool with_delta_h, const ExtraOutput& extra) {
  std::vector<std::string> names;
  for (const RowDataset& d : kRowDatasets) {
    const std::string name = d.name;
    if ((with_delta_h || name != kDeltaH) &&
        (extra.path_weights || (name != kLogWeight && name != kEss)))
      names.push_back(name);
  }
  names.insert(names.end(), extra.step_series.begin(), extra.step_series.end());
  for (const RowDatasetSpec& d : extra.rows) names.push_back(d.name);
  H5Handle file = open_file(path, H5F_ACC_RDONLY, MPI_COMM_WORLD);
  std::string missing;
  for (const std::string& n : names)
    if (missing.empty() && !has_path(file.get(), path, n)) missing = n;
  close_file(file, path);
  if (!missing.empty()) throw IoError(path + ": dataset " + missing + " is missing");
}

std::string read_output_deck(const std::string& path) {
  H5Handle file = open_file(path, H5F_ACC_RDONLY, MPI_COMM_WORLD);
  std::string deck = read_string_attribute(file.get(), path, "deck");
  close_file(file, path);
  return deck;
}

}  // namespace latdiff
