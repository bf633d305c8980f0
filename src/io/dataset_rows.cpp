#include "io/dataset_rows.hpp"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>

#include "io/collective_verdict.hpp"
#include "io/hdf5_handle.hpp"

namespace latdiff {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Rows per read: blocks of at most this many values.
constexpr std::int64_t kBlockValues = std::int64_t{1} << 22;

DatasetRows read_rows(const std::string& path, const std::string& dataset,
                      const std::vector<int>& dims, const std::vector<std::int64_t>& columns) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(path + ": no such file");
  H5Handle f = open_file(path, H5F_ACC_RDONLY, MPI_COMM_SELF);
  if (H5Lexists(f.get(), dataset.c_str(), H5P_DEFAULT) <= 0)
    throw IoError(path + ": no dataset " + dataset);
  H5Handle dset = open_dataset(f.get(), path, dataset);
  DatasetRows out;
  for (hsize_t e : extent(dset.get(), path, dataset))
    out.shape.push_back(static_cast<std::int64_t>(e));
  std::int64_t n = 1;
  std::string row_text;
  for (int L : dims) {
    n *= L;
    row_text += ", " + std::to_string(L);
  }
  const bool trailing = out.shape.size() == dims.size() + 1 &&
                        std::equal(dims.begin(), dims.end(), out.shape.begin() + 1);
  const bool flat = out.shape.size() == 2 && out.shape[1] == n;
  if (!(trailing || flat))
    throw IoError(path + ": dataset " + dataset + " has shape " + shape_text(out.shape) +
                  ", expected [N" + row_text + "] or [N, " + std::to_string(n) + "]");
  H5Handle type = checked(H5Dget_type(dset.get()), H5Tclose, path, "no datatype of " + dataset);
  const H5T_class_t kind = H5Tget_class(type.get());
  if (kind != H5T_INTEGER && kind != H5T_FLOAT)
    throw IoError(path + ": dataset " + dataset + " is not numeric");
  const std::int64_t rows = out.shape[0];
  const std::int64_t per_block = std::max<std::int64_t>(1, kBlockValues / n);
  H5Handle file_space = checked(H5Dget_space(dset.get()), H5Sclose, path, "no dataspace");
  std::vector<double> block;
  for (std::int64_t r0 = 0; r0 < rows; r0 += per_block) {
    const std::int64_t count = std::min(per_block, rows - r0);
    std::vector<hsize_t> start(out.shape.size(), 0), size(out.shape.begin(), out.shape.end());
    start[0] = static_cast<hsize_t>(r0);
    size[0] = static_cast<hsize_t>(count);
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, size.data(),
                              nullptr),
          path, "cannot select rows of " + dataset);
    const hsize_t values = static_cast<hsize_t>(count * n);
    H5Handle memory =
        checked(H5Screate_simple(1, &values, nullptr), H5Sclose, path, "no memory dataspace");
    block.resize(values);
    check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), H5P_DEFAULT,
                  block.data()),
          path, "cannot read dataset " + dataset);
    for (std::int64_t r = 0; r < count; ++r) {
      std::vector<double>& row = out.rows.emplace_back(columns.size());
      for (std::size_t i = 0; i < columns.size(); ++i) row[i] = block[r * n + columns[i]];
    }
  }
  file_space.close();
  type.close();
  dset.close();
  close_file(f, path);
  return out;
}

}  // namespace

DatasetRows read_dataset_rows(const std::string& path, const std::string& dataset,
                              const std::vector<int>& dims,
                              const std::vector<std::int64_t>& columns, MPI_Comm comm) {
  DatasetRows out;
  agree<IoError>(comm, [&] { out = read_rows(path, dataset, dims, columns); });
  return out;
}

}  // namespace latdiff
