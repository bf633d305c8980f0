#include "io/checkpoint.hpp"

#include <bit>
#include <cstdio>

#include "io/fault_injection.hpp"
#include "random/splitmix64.hpp"

namespace latdiff {

namespace {

constexpr const char* kPhi = "/phi";
constexpr const char* kBlockSums = "/block_sums";

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Collective. Works on the pack_interior layout, whose order is that of for_each_site.
std::uint64_t checksum(const Geometry& g, const std::vector<double>& packed, const ChainState& s) {
  std::uint64_t local = 0;
  std::size_t k = 0;
  for_each_site(g, [&](std::size_t, std::int64_t gi) {
    const auto bits = std::bit_cast<std::uint64_t>(packed[k++]);
    local += splitmix64(splitmix64(static_cast<std::uint64_t>(gi)) ^ bits);
  });
  // Unsigned addition wraps, so the sum does not depend on how sites are split over ranks.
  std::uint64_t h = 0;
  MPI_Allreduce(&local, &h, 1, MPI_UINT64_T, MPI_SUM, g.comm());
  auto fold = [&h](std::uint64_t v) { h = splitmix64(h ^ v); };
  for (int L : g.global_dims()) fold(static_cast<std::uint64_t>(L));
  fold(static_cast<std::uint64_t>(s.updates_done));
  fold(static_cast<std::uint64_t>(s.counts.observables));
  fold(static_cast<std::uint64_t>(s.counts.sampler));
  fold(static_cast<std::uint64_t>(s.counts.configurations));
  fold(static_cast<std::uint64_t>(s.counts.correlators));
  fold(static_cast<std::uint64_t>(s.counts.coarse));
  fold(static_cast<std::uint64_t>(s.block_fill));
  fold(static_cast<std::uint64_t>(s.block_sums.size()));
  for (double v : s.block_sums) fold(std::bit_cast<std::uint64_t>(v));
  fold(fnv1a(s.deck_text));
  return h;
}

// Collective. "/block_sums" (float64 [n]), rank 0's values written by rank 0.
void write_block_sums(hid_t f, const std::string& file, const std::vector<double>& v, int rank) {
  const std::string what = std::string("cannot write ") + kBlockSums;
  const hsize_t n = v.size();
  H5Handle space = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, file, what);
  H5Handle dset = checked(
      H5Dcreate2(f, kBlockSums, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, file, what);
  if (n == 0) return;
  H5Handle mem = checked(H5Screate_simple(1, &n, nullptr), H5Sclose, file, what);
  if (rank != 0) {
    check(H5Sselect_none(mem.get()), file, what);
    check(H5Sselect_none(space.get()), file, what);
  }
  H5Handle dxpl = collective_transfer(file);
  check(H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, mem.get(), space.get(), dxpl.get(), v.data()), file,
        what);
}

// Collective. The whole "/block_sums" on every rank.
std::vector<double> read_block_sums(hid_t f, const std::string& file) {
  H5Handle dset = open_dataset(f, file, kBlockSums);
  const std::vector<hsize_t> dims = extent(dset.get(), file, kBlockSums);
  if (dims.size() != 1) throw IoError(file + ": " + kBlockSums + " is not one-dimensional");
  std::vector<double> v(dims[0]);
  H5Handle dxpl = collective_transfer(file);
  if (!v.empty())
    check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl.get(), v.data()), file,
          std::string("cannot read ") + kBlockSums);
  return v;
}

void write_to(const std::string& tmp, const Geometry& g, const std::vector<double>& packed,
              const ChainState& s, std::uint64_t sum) {
  H5Handle file = create_file(tmp, g.comm());
  {
    const std::vector<hsize_t> dims(g.global_dims().begin(), g.global_dims().end());
    H5Handle space = checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                             H5Sclose, tmp, "cannot create dataspace for /phi");
    H5Handle dset = checked(H5Dcreate2(file.get(), kPhi, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT),
                            H5Dclose, tmp, "cannot create dataset /phi");
    write_block(dset.get(), tmp, g, packed, std::nullopt);
    const hid_t f = file.get();
    write_attribute(f, tmp, "updates_done", s.updates_done);
    write_attribute(f, tmp, "observables_rows", s.counts.observables);
    write_attribute(f, tmp, "sampler_rows", s.counts.sampler);
    write_attribute(f, tmp, "configurations_rows", s.counts.configurations);
    write_attribute(f, tmp, "correlators_rows", s.counts.correlators);
    write_attribute(f, tmp, "coarse_rows", s.counts.coarse);
    write_attribute(f, tmp, "block_fill", s.block_fill);
    write_block_sums(f, tmp, s.block_sums, g.rank());
    write_attribute(f, tmp, "deck", s.deck_text);
    write_attribute(f, tmp, "checksum", sum);
    write_attribute(f, tmp, "chain_format", s.chain_format);
  }
  fault_point("checkpoint_write");
  close_file(file, tmp);
}

struct Loaded {
  ChainState state;
  std::vector<double> packed;
};

// Collective. Reads a checkpoint and checks it against its stored checksum.
Loaded load_verified(const std::string& path, const Geometry& g) {
  Loaded l;
  std::uint64_t stored = 0;
  H5Handle file = open_file(path, H5F_ACC_RDONLY, g.comm());
  {
    H5Handle dset = open_dataset(file.get(), path, kPhi);
    check_lattice_shape(extent(dset.get(), path, kPhi), 0, g, path, kPhi);
    l.packed = read_block(dset.get(), path, g, std::nullopt);
    const hid_t f = file.get();
    ChainState& s = l.state;
    s.updates_done = read_int64_attribute(f, path, "updates_done");
    s.counts.observables = read_int64_attribute(f, path, "observables_rows");
    s.counts.sampler = read_int64_attribute(f, path, "sampler_rows");
    s.counts.configurations = read_int64_attribute(f, path, "configurations_rows");
    s.counts.correlators = read_int64_attribute(f, path, "correlators_rows");
    s.counts.coarse = read_int64_attribute(f, path, "coarse_rows");
    s.block_fill = read_int64_attribute(f, path, "block_fill");
    s.block_sums = read_block_sums(f, path);
    s.deck_text = read_string_attribute(f, path, "deck");
    stored = read_uint64_attribute(f, path, "checksum");
    s.chain_format =
        H5Aexists(f, "chain_format") > 0 ? read_int64_attribute(f, path, "chain_format") : 1;
  }
  close_file(file, path);
  if (checksum(g, l.packed, l.state) != stored)
    throw IoError(path + ": checksum mismatch, checkpoint is corrupt");
  return l;
}

}  // namespace

std::uint64_t checkpoint_checksum(const Geometry& g, const Field& phi, const ChainState& s) {
  return checksum(g, pack_interior(g, phi), s);
}

void write_checkpoint(const std::string& path, const Geometry& g, const Field& phi,
                      const ChainState& s) {
  const MPI_Comm comm = g.comm();
  ChainState st = s;
  MPI_Bcast(&st.updates_done, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&st.counts.observables, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&st.counts.sampler, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&st.counts.configurations, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&st.counts.correlators, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&st.counts.coarse, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&st.block_fill, 1, MPI_INT64_T, 0, comm);
  unsigned long long n_sums = st.block_sums.size();
  MPI_Bcast(&n_sums, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
  st.block_sums.resize(n_sums);
  if (n_sums > 0) MPI_Bcast(st.block_sums.data(), static_cast<int>(n_sums), MPI_DOUBLE, 0, comm);
  bcast_from_root(st.deck_text, comm);

  const std::vector<double> packed = pack_interior(g, phi);
  const std::uint64_t sum = checksum(g, packed, st);
  const std::string tmp = path + ".tmp";
  try {
    write_to(tmp, g, packed, st, sum);
    // Read back before replacing the previous checkpoint: a faulty MPI-IO layer (e.g. Open MPI
    // 4.1's OMPIO/vulcan, ompi#12718) then costs this checkpoint, not the chain.
    load_verified(tmp, g);
  } catch (const IoError& e) {
    // The half-written file is of no use, and on a full disk it holds the space. Any rank
    // that sees the failure removes it: the others may not see it (MPI-IO aggregators only).
    std::remove(tmp.c_str());
    throw CheckpointError(e.what());
  }
  fault_point("before_rename");

  try {
    replace_file(tmp, path, comm);
  } catch (const IoError& e) {
    throw CheckpointError(e.what());
  }
  fault_point("after_rename");
}

ChainState read_checkpoint(const std::string& path, const Geometry& g, Field& phi) {
  try {
    Loaded l = load_verified(path, g);
    unpack_interior(g, l.packed, phi);
    return l.state;
  } catch (const IoError& e) {
    throw CheckpointError(e.what());
  }
}

}  // namespace latdiff
