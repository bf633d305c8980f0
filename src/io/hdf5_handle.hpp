// HDF5 plumbing shared by output files and checkpoints: an owning handle for hid_t, one error
// path (IoError with a one-line message naming the file), files opened with the MPI-IO driver,
// attributes, and collective hyperslab I/O of a field in global row-major order (DESIGN.md §5).
#pragma once

#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lattice/geometry.hpp"

namespace latdiff {

struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Owns one HDF5 identifier and closes it with the matching H5?close function.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  H5Handle() = default;
  H5Handle(hid_t id, Closer close) noexcept : id_(id), close_(close) {}
  H5Handle(H5Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  H5Handle& operator=(H5Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() {
    // Closing a file is collective under MPI-IO. While an exception unwinds, the other ranks
    // may be elsewhere, so the file is left open rather than risk a hang; the process then
    // ends without HDF5's clean-up (app/error_exit.hpp).
    if (std::uncaught_exceptions() > 0 && close_ == &H5Fclose) return;
    close();
  }

  hid_t get() const { return id_; }
  // Closes now and returns the status, so that a failed file close (data not flushed) can be
  // reported; a no-op returning 0 when nothing is held.
  herr_t close() noexcept {
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    return id >= 0 ? close_(id) : 0;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// Throws IoError "<file>: <what>" when status < 0.
void check(herr_t status, const std::string& file, const std::string& what);
// Wraps id, or throws IoError "<file>: <what>" when the call that produced it failed.
H5Handle checked(hid_t id, H5Handle::Closer close, const std::string& file,
                 const std::string& what);

// Collective over comm. Opens an existing file with the MPI-IO driver (flags H5F_ACC_RDONLY or
// H5F_ACC_RDWR). Throws IoError "<path>: no such file" or "<path>: cannot open as HDF5 file".
H5Handle open_file(const std::string& path, unsigned flags, MPI_Comm comm);
// Collective over comm. Creates path, truncating an existing file.
H5Handle create_file(const std::string& path, MPI_Comm comm);
// Closes a file handle (all objects in it must be closed), throwing IoError on failure.
// Collective when the file was opened with the MPI-IO driver. A failed write is seen by the
// ranks that wrote (the MPI-IO aggregators) only, and HDF5 then takes other collective steps
// on those ranks than on the rest, so such failures cannot be agreed on: app/error_exit.hpp
// ends the job.
void close_file(H5Handle& file, const std::string& path);

// Collective over comm. Syncs `from` to stable storage on every node that wrote it, renames it
// to `to` (rank 0) and syncs the directory, so that a crash leaves either the old file at `to`
// or the new one. Throws IoError naming `to` on every rank on failure.
void replace_file(const std::string& from, const std::string& to, MPI_Comm comm);

// Collective over comm. Rank 0 writes a small file atomically: write(tmp) creates and fills
// tmp = path + ".tmp" (on MPI_COMM_SELF), which replace_file then syncs and renames over path.
// On any failure the temporary file is removed (of no use half-written; on a full disk it
// holds the space) and every rank throws IoError naming the file.
void write_file_atomically(const std::string& path, MPI_Comm comm,
                           const std::function<void(const std::string& tmp)>& write);

// Property list for collective data transfer.
H5Handle collective_transfer(const std::string& file);

// Opens dataset `name` (an absolute path inside the file).
H5Handle open_dataset(hid_t file_id, const std::string& file, const std::string& name);
// Extent of a dataset.
std::vector<hsize_t> extent(hid_t dset, const std::string& file, const std::string& name);

// Root-rank values on every rank: HDF5 metadata (attributes, extents) must be written with
// identical arguments by all ranks.
void bcast_from_root(std::string& s, MPI_Comm comm);
void bcast_from_root(std::vector<int>& v, MPI_Comm comm);
void bcast_from_root(std::optional<std::uint64_t>& v, MPI_Comm comm);

// Attributes of obj (a file, group or dataset). Writes are collective under the MPI-IO driver.
// Strings are variable-length UTF-8 scalars (h5py reads them as str).
void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     const std::string& value);
void write_attribute(hid_t obj, const std::string& file, const std::string& name, int value);
void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     std::int64_t value);
void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     std::uint64_t value);
void write_attribute(hid_t obj, const std::string& file, const std::string& name,
                     const std::vector<int>& value);
void write_attribute(hid_t obj, const std::string& file, const std::string& name, double value);
std::string read_string_attribute(hid_t obj, const std::string& file, const std::string& name);
std::int64_t read_int64_attribute(hid_t obj, const std::string& file, const std::string& name);
std::uint64_t read_uint64_attribute(hid_t obj, const std::string& file, const std::string& name);
double read_double_attribute(hid_t obj, const std::string& file, const std::string& name);
// A 1-D integer attribute (or a scalar, as one value).
std::vector<int> read_int_vector_attribute(hid_t obj, const std::string& file,
                                           const std::string& name);

// Whole small datasets (a model file's parameters), written and read by one process in one
// call: files opened on MPI_COMM_SELF, or identical calls on every rank. `shape` multiplies to
// data.size(). read_dataset throws IoError unless the dataset exists with `shape` exactly.
void write_dataset(hid_t file_id, const std::string& file, const std::string& name,
                   const std::vector<hsize_t>& shape, const std::vector<double>& data);
void write_dataset(hid_t file_id, const std::string& file, const std::string& name,
                   const std::vector<hsize_t>& shape, const std::vector<std::int64_t>& data);
std::vector<double> read_dataset(hid_t file_id, const std::string& file, const std::string& name,
                                 const std::vector<hsize_t>& shape);

// Throws IoError unless the trailing extents of dataset `name` equal g.global_dims(); the
// message gives both shapes.
void check_lattice_shape(const std::vector<hsize_t>& stored, std::size_t lead, const Geometry& g,
                         const std::string& file, const std::string& name);

// Collective over g.comm(). Writes/reads this rank's block (pack_interior layout) as a hyperslab
// of dset: the whole dataset when it has shape [L_0, ...], or entry `slot` of a dataset of shape
// [n, L_0, ...]. The caller checks the shape.
void write_block(hid_t dset, const std::string& file, const Geometry& g,
                 const std::vector<double>& packed, std::optional<hsize_t> slot);
std::vector<double> read_block(hid_t dset, const std::string& file, const Geometry& g,
                               std::optional<hsize_t> slot);

}  // namespace latdiff
