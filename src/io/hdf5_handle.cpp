#include "io/hdf5_handle.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "io/collective_verdict.hpp"

namespace latdiff {

namespace {

// HDF5 prints its whole error stack to stderr by default; our callers get one-line IoErrors
// instead. Process-wide and idempotent, so every entry point that opens a file calls it.
void quiet_hdf5_errors() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

H5Handle mpio_access(const std::string& path, MPI_Comm comm) {
  H5Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "cannot create access list");
  check(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), path, "cannot select the MPI-IO driver");
  return fapl;
}

template <class V>
std::string shape_string(const V& v, std::size_t from) {
  std::ostringstream s;
  s << '[';
  for (std::size_t i = from; i < v.size(); ++i) s << (i > from ? ", " : "") << v[i];
  s << ']';
  return s.str();
}

// Scalar (no length) or 1-D numeric attribute; an empty array is stored with shape (0,).
void write_numeric(hid_t obj, const std::string& file, const std::string& name, hid_t file_type,
                   hid_t mem_type, const void* data, std::optional<hsize_t> n) {
  const std::string what = "attribute " + name;
  H5Handle space = checked(n ? H5Screate_simple(1, &*n, nullptr) : H5Screate(H5S_SCALAR), H5Sclose,
                           file, "cannot create dataspace for " + what);
  H5Handle attr =
      checked(H5Acreate2(obj, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, file, "cannot create " + what);
  if (n != hsize_t{0}) check(H5Awrite(attr.get(), mem_type, data), file, "cannot write " + what);
}

template <class T>
T read_scalar(hid_t obj, const std::string& file, const std::string& name, hid_t mem_type) {
  const std::string what = "attribute " + name;
  H5Handle attr =
      checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, file, "cannot open " + what);
  H5Handle space = checked(H5Aget_space(attr.get()), H5Sclose, file, "cannot query " + what);
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    throw IoError(file + ": " + what + " is not a scalar");
  T value{};
  check(H5Aread(attr.get(), mem_type, &value), file, "cannot read " + what);
  return value;
}

H5Handle utf8_string_type(const std::string& file) {
  H5Handle type = checked(H5Tcopy(H5T_C_S1), H5Tclose, file, "cannot create string type");
  check(H5Tset_size(type.get(), H5T_VARIABLE), file, "cannot create string type");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), file, "cannot create string type");
  return type;
}

// Selects this rank's block in a dataset of shape [L_0, ...] or [n, L_0, ...] (entry slot).
H5Handle block_selection(hid_t dset, const std::string& file, const Geometry& g,
                         std::optional<hsize_t> slot) {
  std::vector<hsize_t> start, count;
  if (slot) {
    start.push_back(*slot);
    count.push_back(1);
  }
  for (int mu = 0; mu < g.dim(); ++mu) {
    start.push_back(static_cast<hsize_t>(g.offset()[mu]));
    count.push_back(static_cast<hsize_t>(g.local_dims()[mu]));
  }
  H5Handle space = checked(H5Dget_space(dset), H5Sclose, file, "cannot query field dataspace");
  check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        file, "cannot select field block");
  return space;
}

H5Handle block_memory_space(const std::string& file, const Geometry& g) {
  const hsize_t n = static_cast<hsize_t>(g.local_volume());
  return checked(H5Screate_simple(1, &n, nullptr), H5Sclose, file,
                 "cannot create memory dataspace");
}

// MPI-IO reports a full file system as a plain "input/output error"; name the likely cause
// when the file system holding `file` is (nearly) full.
std::string space_hint(const std::string& file) {
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  struct statvfs fs {};
  if (statvfs(parent.empty() ? "." : parent.c_str(), &fs) != 0) return "";
  const double free = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  const double total = static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize);
  if (free >= std::max(16.0 * (1 << 20), 0.01 * total)) return "";
  char text[96];
  std::snprintf(text, sizeof text, ": no space left on device (%.3g MiB free of %.3g MiB)",
                free / (1 << 20), total / (1 << 20));
  return text;
}

// Collective. Flushes the file's data to stable storage on every node that wrote part of it.
void sync_file(const std::string& path, MPI_Comm comm) {
  MPI_File fh;
  std::string name = path;
  bool ok = MPI_File_open(comm, name.data(), MPI_MODE_RDWR, MPI_INFO_NULL, &fh) == MPI_SUCCESS;
  if (ok) {
    ok = MPI_File_sync(fh) == MPI_SUCCESS;
    ok = MPI_File_close(&fh) == MPI_SUCCESS && ok;
  }
  int all_ok = ok ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &all_ok, 1, MPI_INT, MPI_MIN, comm);
  if (!all_ok) throw IoError(path + ": cannot fsync");
}

// Rank 0's part of replace_file. Returns 0 or an errno value, with what failed.
int rename_and_sync_dir(const std::string& from, const std::string& to, std::string& what) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    what = "cannot rename " + from + " to it";
    return errno;
  }
  const std::filesystem::path parent = std::filesystem::path(to).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    what = "cannot open directory " + dir;
    return errno;
  }
  int err = 0;
  // Some file systems cannot fsync a directory (EINVAL); the rename itself has succeeded.
  if (::fsync(fd) != 0 && errno != EINVAL) {
    err = errno;
    what = "cannot fsync directory " + dir;
  }
  ::close(fd);
  return err;
}

}  // namespace

void replace_file(const std::string& from, const std::string& to, MPI_Comm comm) {
  sync_file(from, comm);
  int rank = 0, err = 0;
  MPI_Comm_rank(comm, &rank);
  std::string what;
  if (rank == 0) err = rename_and_sync_dir(from, to, what);
  // Also the barrier after which every rank sees the renamed file.
  MPI_Bcast(&err, 1, MPI_INT, 0, comm);
  if (err != 0) {
    bcast_from_root(what, comm);
    throw IoError(to + ": " + what + ": " + std::strerror(err));
  }
}

void write_file_atomically(const std::string& path, MPI_Comm comm,
                           const std::function<void(const std::string& tmp)>& write) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  agree<IoError>(comm, [&] {
    if (rank != 0) return;
    const std::string tmp = path + ".tmp";
    try {
      write(tmp);
      replace_file(tmp, path, MPI_COMM_SELF);
    } catch (const std::exception& e) {
      std::remove(tmp.c_str());
      const std::string what = e.what();
      throw IoError(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
  });
}

void check(herr_t status, const std::string& file, const std::string& what) {
  if (status < 0) throw IoError(file + ": " + what + space_hint(file));
}

H5Handle checked(hid_t id, H5Handle::Closer close, const std::string& file,
                 const std::string& what) {
  if (id < 0) throw IoError(file + ": " + what + space_hint(file));
  return H5Handle(id, close);
}

H5Handle open_file(const std::string& path, unsigned flags, MPI_Comm comm) {
  quiet_hdf5_errors();
  // Decided on rank 0 so that every rank reports the same error.
  int rank = 0, exists = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    std::error_code ec;
    exists = std::filesystem::exists(path, ec) ? 1 : 0;
  }
  MPI_Bcast(&exists, 1, MPI_INT, 0, comm);
  if (!exists) throw IoError(path + ": no such file");
  H5Handle fapl = mpio_access(path, comm);
  return checked(H5Fopen(path.c_str(), flags, fapl.get()), H5Fclose, path,
                 "cannot open as HDF5 file (unreadable or not HDF5)");
}

H5Handle create_file(const std::string& path, MPI_Comm comm) {
  quiet_hdf5_errors();
  H5Handle fapl = mpio_access(path, comm);
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose, path,
                 "cannot create file");
}

void close_file(H5Handle& file, const std::string& path) {
  check(file.close(), path, "cannot close file (data may not have been written)");
}

H5Handle collective_transfer(const std::string& file) {
  H5Handle dxpl =
      checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, file, "cannot create transfer list");
  check(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE), file,
        "cannot select collective transfer");
  return dxpl;
}

H5Handle open_dataset(hid_t file_id, const std::string& file, const std::string& name) {
  return checked(H5Dopen2(file_id, name.c_str(), H5P_DEFAULT), H5Dclose, file,
                 "cannot open dataset " + name);
}

std::vector<hsize_t> extent(hid_t dset, const std::string& file, const std::string& name) {
  H5Handle space = checked(H5Dget_space(dset), H5Sclose, file, "cannot query " + name);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw IoError(file + ": cannot query the shape of " + name);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), file,
        "cannot query the shape of " + name);
  return dims;
}

void bcast_from_root(std::string& s, MPI_Comm comm) {
  unsigned long long n = s.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  s.resize(n);
  MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
}

void bcast_from_root(std::vector<int>& v, MPI_Comm comm) {
  unsigned long long n = v.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  v.resize(n);
  MPI_Bcast(v.data(), static_cast<int>(n), MPI_INT, 0, comm);
}

void bcast_from_root(std::optional<std::uint64_t>& v, MPI_Comm comm) {
  std::uint64_t value[2] = {v ? 1u : 0u, v.value_or(0)};
  MPI_Bcast(value, 2, MPI_UINT64_T, 0, comm);
  v = value[0] ? std::optional<std::uint64_t>(value[1]) : std::nullopt;
}

void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     const std::string& value) {
  const std::string what = "attribute " + name;
  H5Handle type = utf8_string_type(file);
  H5Handle space =
      checked(H5Screate(H5S_SCALAR), H5Sclose, file, "cannot create dataspace for " + what);
  H5Handle attr =
      checked(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, file, "cannot create " + what);
  const char* c = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &c), file, "cannot write " + what);
}

void write_attribute(hid_t obj, const std::string& file, const std::string& name, int value) {
  write_numeric(obj, file, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value, std::nullopt);
}

void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     std::int64_t value) {
  write_numeric(obj, file, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, std::nullopt);
}

void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     std::uint64_t value) {
  write_numeric(obj, file, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, std::nullopt);
}

void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     const std::vector<int>& value) {
  write_numeric(obj, file, name, H5T_STD_I32LE, H5T_NATIVE_INT, value.data(), value.size());
}

void write_attribute(hid_t obj, const std::string& file, const std::string& name, double value) {
  write_numeric(obj, file, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, std::nullopt);
}

std::string read_string_attribute(hid_t obj, const std::string& file, const std::string& name) {
  const std::string what = "attribute " + name;
  H5Handle attr =
      checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, file, "cannot open " + what);
  H5Handle stored = checked(H5Aget_type(attr.get()), H5Tclose, file, "cannot query " + what);
  if (H5Tget_class(stored.get()) != H5T_STRING || H5Tis_variable_str(stored.get()) <= 0)
    throw IoError(file + ": " + what + " is not a variable-length string");
  H5Handle space = checked(H5Aget_space(attr.get()), H5Sclose, file, "cannot query " + what);
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    throw IoError(file + ": " + what + " is not a scalar");
  H5Handle type = utf8_string_type(file);
  char* c = nullptr;
  check(H5Aread(attr.get(), type.get(), &c), file, "cannot read " + what);
  std::string value = c ? c : "";
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, &c);
  return value;
}

std::int64_t read_int64_attribute(hid_t obj, const std::string& file, const std::string& name) {
  return read_scalar<std::int64_t>(obj, file, name, H5T_NATIVE_INT64);
}

std::uint64_t read_uint64_attribute(hid_t obj, const std::string& file, const std::string& name) {
  return read_scalar<std::uint64_t>(obj, file, name, H5T_NATIVE_UINT64);
}

double read_double_attribute(hid_t obj, const std::string& file, const std::string& name) {
  return read_scalar<double>(obj, file, name, H5T_NATIVE_DOUBLE);
}

std::vector<int> read_int_vector_attribute(hid_t obj, const std::string& file,
                                           const std::string& name) {
  const std::string what = "attribute " + name;
  H5Handle attr =
      checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, file, "cannot open " + what);
  H5Handle space = checked(H5Aget_space(attr.get()), H5Sclose, file, "cannot query " + what);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || H5Sget_simple_extent_ndims(space.get()) > 1)
    throw IoError(file + ": " + what + " is not a 1-D array");
  std::vector<int> value(static_cast<std::size_t>(n));
  if (n > 0) check(H5Aread(attr.get(), H5T_NATIVE_INT, value.data()), file, "cannot read " + what);
  return value;
}

namespace {

template <class T>
void write_whole(hid_t file_id, const std::string& file, const std::string& name,
                 const std::vector<hsize_t>& shape, const std::vector<T>& data, hid_t file_type,
                 hid_t mem_type) {
  H5Handle space = checked(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                           H5Sclose, file, "cannot create dataspace for " + name);
  H5Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, file, "cannot create " + name);
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), file, "cannot create " + name);
  H5Handle dset = checked(H5Dcreate2(file_id, name.c_str(), file_type, space.get(), lcpl.get(),
                                     H5P_DEFAULT, H5P_DEFAULT),
                          H5Dclose, file, "cannot create dataset " + name);
  if (!data.empty())
    check(H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), file,
          "cannot write dataset " + name);
}

}  // namespace

void write_dataset(hid_t file_id, const std::string& file, const std::string& name,
                   const std::vector<hsize_t>& shape, const std::vector<double>& data) {
  write_whole(file_id, file, name, shape, data, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}

void write_dataset(hid_t file_id, const std::string& file, const std::string& name,
                   const std::vector<hsize_t>& shape, const std::vector<std::int64_t>& data) {
  write_whole(file_id, file, name, shape, data, H5T_STD_I64LE, H5T_NATIVE_INT64);
}

std::vector<double> read_dataset(hid_t file_id, const std::string& file, const std::string& name,
                                 const std::vector<hsize_t>& shape) {
  if (H5Lexists(file_id, name.c_str(), H5P_DEFAULT) <= 0)
    throw IoError(file + ": dataset " + name + " is missing");
  H5Handle dset = open_dataset(file_id, file, name);
  const std::vector<hsize_t> stored = extent(dset.get(), file, name);
  if (stored != shape)
    throw IoError(file + ": dataset " + name + " has shape " + shape_string(stored, 0) +
                  ", expected " + shape_string(shape, 0));
  std::size_t n = 1;
  for (hsize_t e : shape) n *= e;
  std::vector<double> data(n);
  if (n > 0)
    check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), file,
          "cannot read dataset " + name);
  return data;
}

void check_lattice_shape(const std::vector<hsize_t>& stored, std::size_t lead, const Geometry& g,
                         const std::string& file, const std::string& name) {
  const auto& dims = g.global_dims();
  bool same = stored.size() == lead + dims.size();
  for (std::size_t mu = 0; same && mu < dims.size(); ++mu)
    same = stored[lead + mu] == static_cast<hsize_t>(dims[mu]);
  if (!same)
    throw IoError(file + ": " + name + " holds a lattice of shape " + shape_string(stored, lead) +
                  ", expected " + shape_string(dims, 0));
}

void write_block(hid_t dset, const std::string& file, const Geometry& g,
                 const std::vector<double>& packed, std::optional<hsize_t> slot) {
  H5Handle file_space = block_selection(dset, file, g, slot);
  H5Handle mem_space = block_memory_space(file, g);
  H5Handle dxpl = collective_transfer(file);
  check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(),
                 packed.data()),
        file, "cannot write field");
}

std::vector<double> read_block(hid_t dset, const std::string& file, const Geometry& g,
                               std::optional<hsize_t> slot) {
  H5Handle file_space = block_selection(dset, file, g, slot);
  H5Handle mem_space = block_memory_space(file, g);
  H5Handle dxpl = collective_transfer(file);
  std::vector<double> packed(static_cast<std::size_t>(g.local_volume()));
  check(H5Dread(dset, H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), dxpl.get(),
                packed.data()),
        file, "cannot read field");
  return packed;
}

}  // namespace latdiff
