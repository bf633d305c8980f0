#include "diffusion/score_model_file.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <utility>

#include "io/collective_verdict.hpp"
#include "io/hdf5_handle.hpp"
#include "random/splitmix64.hpp"

namespace latdiff {

namespace {

constexpr const char* kSchema = "latdiff score model";
constexpr int kSchemaVersion = 2;

const std::vector<std::pair<NoiseKind, std::string>> kProcessNames = {
    {NoiseKind::vp, "vp"}, {NoiseKind::ve, "ve"}, {NoiseKind::sub_vp, "sub_vp"}};

std::string process_name(NoiseKind k) {
  for (const auto& [kind, name] : kProcessNames)
    if (kind == k) return name;
  throw std::logic_error("score model file: unnamed noise process");
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::int64_t> to_int64(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

void write_to(const std::string& tmp, const ScoreModelFile& m) {
  {
    H5Handle f = create_file(tmp, MPI_COMM_SELF);
    const hid_t id = f.get();
    write_attribute(id, tmp, "schema", std::string(kSchema));
    write_attribute(id, tmp, "schema_version", kSchemaVersion);
    write_attribute(id, tmp, "score", std::string("linear"));
    write_attribute(id, tmp, "dimension", m.dimension);
    write_attribute(id, tmp, "knots", m.basis.knots);
    write_attribute(id, tmp, "process", process_name(m.schedule.kind));
    write_attribute(id, tmp, "levels", m.schedule.levels);
    write_attribute(id, tmp, "sigma_min", m.schedule.sigma_min);
    write_attribute(id, tmp, "sigma_max", m.schedule.sigma_max);
    write_attribute(id, tmp, "beta_min", m.schedule.beta_min);
    write_attribute(id, tmp, "beta_max", m.schedule.beta_max);
    write_attribute(id, tmp, "checksum", model_checksum(m));
    // Not "deck": files with that attribute are chain files (output_file.hpp, probe_chain).
    write_attribute(id, tmp, "training_deck", m.deck);
    write_attribute(id, tmp, "version", m.version);
    write_attribute(id, tmp, "created", m.created);
    write_attribute(id, tmp, "seed", m.seed);
    write_attribute(id, tmp, "draws", m.draws);
    write_attribute(id, tmp, "lattice_dims", m.lattice_dims);
    write_attribute(id, tmp, "training_files", join_lines(m.files));

    const int nk = m.basis.knots, blocks = m.basis.scales() - 1;
    const auto n = static_cast<hsize_t>(m.theta.size());
    const auto k = static_cast<hsize_t>(nk);
    const auto s = static_cast<hsize_t>(blocks);
    const NoiseProcess noise(m.schedule);
    std::vector<double> knots(k), kernel, cubic, quintic, abar, sbar2;
    std::vector<double> block_quadratic, block_cubic, block_quintic;
    for (int j = 0; j < nk; ++j) knots[j] = 4.0 * m.dimension * j / (nk - 1);
    for (std::size_t i = 0; i < m.theta.size(); ++i) {
      const std::vector<double>& th = m.theta[i];
      kernel.insert(kernel.end(), th.begin(), th.begin() + nk);
      const auto coupling = [&](int scale, int power) {
        const int index = m.basis.index(scale, power);
        return index < 0 ? 0.0 : th[index];
      };
      cubic.push_back(coupling(0, 3));
      quintic.push_back(coupling(0, 5));
      for (int b = 1; b <= blocks; ++b) {
        block_quadratic.push_back(coupling(b, 1));
        block_cubic.push_back(coupling(b, 3));
        block_quintic.push_back(coupling(b, 5));
      }
      abar.push_back(noise.abar(static_cast<int>(i) + 1));
      sbar2.push_back(noise.sbar2(static_cast<int>(i) + 1));
    }
    write_dataset(id, tmp, "/score/knots", {k}, knots);
    write_dataset(id, tmp, "/score/kernel", {n, k}, kernel);
    write_dataset(id, tmp, "/score/cubic", {n}, cubic);
    write_dataset(id, tmp, "/score/quintic", {n}, quintic);
    write_dataset(
        id, tmp, "/score/block_sizes", {s},
        std::vector<std::int64_t>(m.basis.block_sizes.begin(), m.basis.block_sizes.end()));
    write_dataset(id, tmp, "/score/block_quadratic", {n, s}, block_quadratic);
    write_dataset(id, tmp, "/score/block_cubic", {n, s}, block_cubic);
    write_dataset(id, tmp, "/score/block_quintic", {n, s}, block_quintic);
    write_dataset(id, tmp, "/score/abar", {n}, abar);
    write_dataset(id, tmp, "/score/sbar2", {n}, sbar2);
    write_dataset(id, tmp, "/loss/train", {n}, m.train_loss);
    write_dataset(id, tmp, "/loss/holdout", {n}, m.holdout_loss);
    const auto c = static_cast<hsize_t>(m.step.size());
    write_dataset(id, tmp, "/training/file_index", {c}, m.file_index);
    write_dataset(id, tmp, "/training/step", {c}, m.step);
    write_dataset(id, tmp, "/training/holdout", {c}, m.held_out);
    close_file(f, tmp);
  }
}

ScoreModelFile read_file(const std::string& path) {
  H5Handle f = open_file(path, H5F_ACC_RDONLY, MPI_COMM_SELF);
  const hid_t id = f.get();
  const auto has = [&](const char* name) { return H5Aexists(id, name) > 0; };
  if (!has("schema") || read_string_attribute(id, path, "schema") != kSchema)
    throw IoError(path + ": not a latdiff score model file (no attribute schema = \"" +
                  std::string(kSchema) + "\"); train one with diffusion.score = trained");
  const std::int64_t version = read_int64_attribute(id, path, "schema_version");
  if (version != 1 && version != kSchemaVersion)
    throw IoError(path + ": score model schema version " + std::to_string(version) +
                  ", this latdiff reads versions 1 and " + std::to_string(kSchemaVersion));
  if (read_string_attribute(id, path, "score") != "linear")
    throw IoError(path + ": score model of kind '" + read_string_attribute(id, path, "score") +
                  "', this latdiff reads 'linear'");
  ScoreModelFile m;
  m.dimension = static_cast<int>(read_int64_attribute(id, path, "dimension"));
  m.basis.knots = static_cast<int>(read_int64_attribute(id, path, "knots"));
  const std::string process = read_string_attribute(id, path, "process");
  bool known = false;
  for (const auto& [kind, name] : kProcessNames)
    if (name == process) {
      m.schedule.kind = kind;
      known = true;
    }
  if (!known) throw IoError(path + ": unknown noise process '" + process + "'");
  m.schedule.levels = static_cast<int>(read_int64_attribute(id, path, "levels"));
  m.schedule.sigma_min = read_double_attribute(id, path, "sigma_min");
  m.schedule.sigma_max = read_double_attribute(id, path, "sigma_max");
  m.schedule.beta_min = read_double_attribute(id, path, "beta_min");
  m.schedule.beta_max = read_double_attribute(id, path, "beta_max");
  if (m.dimension < 1 || m.dimension > 4 || m.basis.knots < 2 || m.schedule.levels < 1)
    throw IoError(path + ": corrupt score model (dimension " + std::to_string(m.dimension) +
                  ", knots " + std::to_string(m.basis.knots) + ", levels " +
                  std::to_string(m.schedule.levels) + ")");
  if (version > 1) {
    const H5Handle sizes = open_dataset(id, path, "/score/block_sizes");
    const std::vector<hsize_t> shape = extent(sizes.get(), path, "/score/block_sizes");
    if (shape.size() != 1)
      throw IoError(path + ": corrupt score model (/score/block_sizes is not 1-D)");
    for (double b : read_dataset(id, path, "/score/block_sizes", shape))
      m.basis.block_sizes.push_back(static_cast<int>(b));
    try {
      m.basis.check();
    } catch (const std::invalid_argument& e) {
      throw IoError(path + ": corrupt score model (" + e.what() + ")");
    }
  }
  const auto n = static_cast<hsize_t>(m.schedule.levels);
  const auto k = static_cast<hsize_t>(m.basis.knots);
  const auto s = static_cast<hsize_t>(m.basis.block_sizes.size());
  const std::vector<double> kernel = read_dataset(id, path, "/score/kernel", {n, k});
  const std::vector<double> cubic = read_dataset(id, path, "/score/cubic", {n});
  const std::vector<double> quintic = read_dataset(id, path, "/score/quintic", {n});
  std::vector<double> block_quadratic, block_cubic, block_quintic;
  if (version > 1) {
    block_quadratic = read_dataset(id, path, "/score/block_quadratic", {n, s});
    block_cubic = read_dataset(id, path, "/score/block_cubic", {n, s});
    block_quintic = read_dataset(id, path, "/score/block_quintic", {n, s});
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> th(kernel.begin() + i * k, kernel.begin() + (i + 1) * k);
    for (const LocalTerm& t : m.basis.local_terms()) {
      if (t.scale == 0) {
        th.push_back(t.power == 3 ? cubic[i] : quintic[i]);
      } else {
        const std::vector<double>& c = t.power == 1   ? block_quadratic
                                       : t.power == 3 ? block_cubic
                                                      : block_quintic;
        th.push_back(c[i * s + static_cast<std::size_t>(t.scale - 1)]);
      }
    }
    m.theta.push_back(std::move(th));
  }
  m.train_loss = read_dataset(id, path, "/loss/train", {n});
  m.holdout_loss = read_dataset(id, path, "/loss/holdout", {n});
  if (read_uint64_attribute(id, path, "checksum") != model_checksum(m))
    throw IoError(path + ": corrupt score model (checksum mismatch)");
  m.deck = read_string_attribute(id, path, "training_deck");
  m.version = read_string_attribute(id, path, "version");
  m.created = read_string_attribute(id, path, "created");
  m.seed = read_uint64_attribute(id, path, "seed");
  m.draws = static_cast<int>(read_int64_attribute(id, path, "draws"));
  m.lattice_dims = read_int_vector_attribute(id, path, "lattice_dims");
  m.files = split_lines(read_string_attribute(id, path, "training_files"));
  const H5Handle steps = open_dataset(id, path, "/training/step");
  const std::vector<hsize_t> c = extent(steps.get(), path, "/training/step");
  if (c.size() != 1) throw IoError(path + ": corrupt score model (/training/step is not 1-D)");
  m.step = to_int64(read_dataset(id, path, "/training/step", c));
  m.file_index = to_int64(read_dataset(id, path, "/training/file_index", c));
  m.held_out = to_int64(read_dataset(id, path, "/training/holdout", c));
  return m;
}

}  // namespace

std::uint64_t model_checksum(const ScoreModelFile& m) {
  std::uint64_t h = 0;
  const auto fold = [&h](std::uint64_t v) { h = splitmix64(h ^ v); };
  const auto fold_real = [&fold](double v) { fold(std::bit_cast<std::uint64_t>(v)); };
  fold(static_cast<std::uint64_t>(m.dimension));
  fold(static_cast<std::uint64_t>(m.basis.knots));
  fold(static_cast<std::uint64_t>(m.schedule.kind));
  fold(static_cast<std::uint64_t>(m.schedule.levels));
  fold_real(m.schedule.sigma_min);
  fold_real(m.schedule.sigma_max);
  fold_real(m.schedule.beta_min);
  fold_real(m.schedule.beta_max);
  for (const auto& th : m.theta)
    for (double v : th) fold_real(v);
  for (int b : m.basis.block_sizes) fold(static_cast<std::uint64_t>(b));
  return h;
}

void write_score_model(const std::string& path, const ScoreModelFile& m, MPI_Comm comm) {
  write_file_atomically(path, comm, [&](const std::string& tmp) { write_to(tmp, m); });
}

ScoreModelFile read_score_model(const std::string& path, MPI_Comm comm) {
  // Every rank reads the small file itself; the checksums then agree or the file changed.
  ScoreModelFile m;
  agree<IoError>(comm, [&] { m = read_file(path); });
  std::uint64_t sum = model_checksum(m), low = sum, high = sum;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_UINT64_T, MPI_MIN, comm);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_UINT64_T, MPI_MAX, comm);
  if (low != high) throw IoError(path + ": changed while being read; run again");
  return m;
}

}  // namespace latdiff
