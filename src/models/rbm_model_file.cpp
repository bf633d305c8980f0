#include "models/rbm_model_file.hpp"

#include <hdf5.h>

#include <bit>
#include <cstdio>
#include <stdexcept>

#include "io/collective_verdict.hpp"
#include "io/hdf5_handle.hpp"
#include "random/splitmix64.hpp"

namespace latdiff {

namespace {

constexpr const char* kSchema = "latdiff rbm model";
constexpr int kSchemaVersion = 1;

RbmUnits units_named(const std::string& name, const std::string& path) {
  for (RbmUnits u : {RbmUnits::binary, RbmUnits::spin, RbmUnits::gaussian})
    if (to_string(u) == name) return u;
  throw IoError(path + ": unknown RBM units '" + name + "' (binary, spin or gaussian)");
}

void write_to(const std::string& tmp, const RbmModelFile& m) {
  const RbmParameters& p = m.parameters;
  H5Handle f = create_file(tmp, MPI_COMM_SELF);
  const hid_t id = f.get();
  write_attribute(id, tmp, "schema", std::string(kSchema));
  write_attribute(id, tmp, "schema_version", kSchemaVersion);
  write_attribute(id, tmp, "visible_units", to_string(p.visible_units));
  write_attribute(id, tmp, "hidden_units", to_string(p.hidden_units));
  write_attribute(id, tmp, "n_visible", static_cast<int>(p.n_visible));
  write_attribute(id, tmp, "n_hidden", static_cast<int>(p.n_hidden));
  write_attribute(id, tmp, "trained_on", m.trained_on);
  write_attribute(id, tmp, "version", m.version);
  write_attribute(id, tmp, "created", m.created);
  const auto nv = static_cast<hsize_t>(p.n_visible), nh = static_cast<hsize_t>(p.n_hidden);
  checked(H5Gcreate2(id, "/rbm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, tmp,
          "cannot create group /rbm");
  write_dataset(id, tmp, "/rbm/weights", {nv, nh}, p.weights);
  write_dataset(id, tmp, "/rbm/visible_bias", {nv}, p.visible_bias);
  write_dataset(id, tmp, "/rbm/hidden_bias", {nh}, p.hidden_bias);
  if (p.visible_units == RbmUnits::gaussian)
    write_dataset(id, tmp, "/rbm/visible_sigma", {nv}, p.visible_sigma);
  close_file(f, tmp);
}

RbmModelFile read_file(const std::string& path) {
  H5Handle f = open_file(path, H5F_ACC_RDONLY, MPI_COMM_SELF);
  const hid_t id = f.get();
  if (H5Aexists(id, "schema") <= 0 || read_string_attribute(id, path, "schema") != kSchema)
    throw IoError(path + ": not a latdiff RBM model file (no attribute schema = \"" +
                  std::string(kSchema) + "\")");
  const std::int64_t version = read_int64_attribute(id, path, "schema_version");
  if (version != kSchemaVersion)
    throw IoError(path + ": RBM model schema version " + std::to_string(version) +
                  ", this latdiff reads version " + std::to_string(kSchemaVersion));
  RbmModelFile m;
  RbmParameters& p = m.parameters;
  p.visible_units = units_named(read_string_attribute(id, path, "visible_units"), path);
  p.hidden_units = units_named(read_string_attribute(id, path, "hidden_units"), path);
  p.n_visible = read_int64_attribute(id, path, "n_visible");
  p.n_hidden = read_int64_attribute(id, path, "n_hidden");
  if (p.n_visible < 1 || p.n_hidden < 1)
    throw IoError(path + ": n_visible and n_hidden must be at least 1");
  const auto nv = static_cast<hsize_t>(p.n_visible), nh = static_cast<hsize_t>(p.n_hidden);
  p.weights = read_dataset(id, path, "/rbm/weights", {nv, nh});
  p.visible_bias = read_dataset(id, path, "/rbm/visible_bias", {nv});
  p.hidden_bias = read_dataset(id, path, "/rbm/hidden_bias", {nh});
  if (p.visible_units == RbmUnits::gaussian)
    p.visible_sigma = read_dataset(id, path, "/rbm/visible_sigma", {nv});
  m.trained_on = read_string_attribute(id, path, "trained_on");
  m.version = read_string_attribute(id, path, "version");
  m.created = read_string_attribute(id, path, "created");
  close_file(f, path);
  try {
    p.check();
  } catch (const std::invalid_argument& e) {
    throw IoError(path + ": " + e.what());
  }
  return m;
}

}  // namespace

std::uint64_t rbm_checksum(const RbmParameters& p) {
  std::uint64_t h = 0;
  const auto fold = [&h](std::uint64_t v) { h = splitmix64(h ^ v); };
  fold(static_cast<std::uint64_t>(p.visible_units));
  fold(static_cast<std::uint64_t>(p.hidden_units));
  fold(static_cast<std::uint64_t>(p.n_visible));
  fold(static_cast<std::uint64_t>(p.n_hidden));
  for (const auto* values : {&p.weights, &p.visible_bias, &p.hidden_bias, &p.visible_sigma})
    for (double v : *values) fold(std::bit_cast<std::uint64_t>(v));
  return h;
}

void write_rbm_model(const std::string& path, const RbmModelFile& m, MPI_Comm comm) {
  write_file_atomically(path, comm, [&](const std::string& tmp) {
    m.parameters.check();
    write_to(tmp, m);
  });
}

RbmModelFile read_rbm_model(const std::string& path, MPI_Comm comm) {
  RbmModelFile m;
  agree<IoError>(comm, [&] { m = read_file(path); });
  return m;
}

}  // namespace latdiff
