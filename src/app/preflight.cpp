#include "app/preflight.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "app/errors.hpp"
#include "app/resume.hpp"
#include "io/collective_verdict.hpp"
#include "io/deck.hpp"
#include "io/output_file.hpp"

namespace latdiff {

namespace {

enum class FileKind { missing, empty, regular, other };

// Collective: what is at `path`, decided by rank 0 (broken names are refused naming `key`).
FileKind file_kind(const std::string& key, const std::string& path, MPI_Comm comm) {
  return decided_by_root<InputError>(comm, [&] {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec && status.type() != std::filesystem::file_type::not_found)
      throw InputError(key + ": '" + path + "': " + ec.message());
    if (status.type() == std::filesystem::file_type::not_found) return FileKind::missing;
    if (status.type() != std::filesystem::file_type::regular) return FileKind::other;
    const auto size = std::filesystem::file_size(path, ec);
    return !ec && size == 0 ? FileKind::empty : FileKind::regular;
  });
}

}  // namespace

void check_replaceable(const Config& cfg, const std::string& key, const std::string& path,
                       MPI_Comm comm, const ChainInputs& inputs) {
  const FileKind kind = file_kind(key, path, comm);
  if (kind == FileKind::missing || kind == FileKind::empty) return;
  if (kind == FileKind::other)
    throw InputError(key + ": '" + path + "' exists and is not a regular file");
  if (cfg.output.overwrite) return;
  const std::string choice =
      "; choose another " + key + ", or set output.overwrite=true to replace it";
  const std::optional<ChainIdentity> id = probe_chain(path);
  if (!id) throw InputError(key + ": '" + path + "' exists and is not a latdiff file" + choice);
  if (const auto d = chain_difference(id->deck, cfg.resolved_text))
    throw InputError(key + ": '" + path + "' holds another chain (its " + d->key + " is '" +
                     d->before + "', the deck's is '" + d->now + "')" + choice);
  // A chain started from a file is the same only if it started from the same field.
  if (inputs.start_checksum && id->inputs.start_checksum != inputs.start_checksum)
    throw InputError(key + ": '" + path +
                     "' holds a chain started from another configuration "
                     "(run.start '" +
                     cfg.run.start + "' has changed since)" + choice);
  if (inputs.model_checksum && id->inputs.model_checksum != inputs.model_checksum) {
    std::string changed;
    for (const auto& [model_key, model_path] : model_files(cfg))
      changed += (changed.empty() ? "" : " or ") + model_key + " '" + model_path + "'";
    throw InputError(key + ": '" + path + "' holds a chain run with another model (" + changed +
                     " has changed since)" + choice);
  }
}

std::vector<std::pair<std::string, std::string>> model_files(const Config& cfg) {
  std::vector<std::pair<std::string, std::string>> files;
  if (cfg.model == ModelType::rbm) files.emplace_back("rbm.model_file", cfg.rbm.model_file);
  if (cfg.sampler.uses_score_model() && cfg.diffusion.score == ScoreKind::trained)
    files.emplace_back("diffusion.model_file", cfg.diffusion.model_file);
  return files;
}

void check_atomic_target(const std::string& key, const std::string& path, MPI_Comm comm) {
  agree<InputError>(comm, [&] {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_symlink(path, ec) && !fs::exists(path, ec))
      throw InputError(key + ": '" + path + "' is a symbolic link to the missing file '" +
                       fs::read_symlink(path, ec).string() +
                       "'; writing the file would replace the link: fix or remove it");
    if (fs::is_directory(path + ".tmp", ec))
      throw InputError(key + ": '" + path +
                       ".tmp' is a directory; the file is written there first: remove it");
  });
}

void check_training_record_replaceable(const Config& cfg, MPI_Comm comm) {
  const std::string& path = cfg.rbm_training.output;
  const FileKind kind = file_kind("rbm_training.output", path, comm);
  if (kind == FileKind::missing || kind == FileKind::empty) return;
  if (kind == FileKind::other)
    throw InputError("rbm_training.output: '" + path + "' exists and is not a regular file");
  if (cfg.output.overwrite) return;
  // Training is deterministic: a record of this very deck is regenerated bit for bit.
  const std::optional<ChainIdentity> id = probe_chain(path);
  if (!id || id->deck != cfg.resolved_text)
    throw InputError("rbm_training.output: '" + path +
                     "' exists and is not the training record of this deck; choose another "
                     "rbm_training.output, or set output.overwrite=true to replace it");
}

void check_memory(const Config& cfg, MPI_Comm comm) {
  // Samplers, FFTs and measurements keep about this much per site.
  constexpr double kBytesPerSite = 128;
  double sites = 1;
  for (int L : cfg.lattice.dims) sites *= L;
  int ranks = 1, node_ranks = 1;
  MPI_Comm_size(comm, &ranks);
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &node_ranks);
  MPI_Comm_free(&node);
  double need = sites / ranks * node_ranks * kBytesPerSite;
  // An RBM's weights are replicated, with as much again for training's gradient and velocity.
  // Training holds about ten arrays of W's size per rank (parameters, velocity, gradient,
  // the phases' statistics, copies of the model).
  if (cfg.model == ModelType::rbm)
    need += (cfg.rbm_training.data.empty() ? 3 : 10) * sites * cfg.rbm.hidden * 8.0 * node_ranks;
  const double have = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  agree<InputError>(comm, [&] {
    if (need > have) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "%.3g sites need about %.3g GiB of memory on this node (%d ranks), more than "
                    "its %.3g GiB",
                    sites, need / (1 << 30), node_ranks, have / (1 << 30));
      throw InputError("lattice.dims: " + std::string(text) +
                       "; use a smaller lattice or spread the ranks over more nodes");
    }
  });
}

void check_distinct_files(const Config& cfg, MPI_Comm comm) {
  std::vector<std::pair<std::string, std::string>> files = {
      {"output.file", cfg.output.file}, {"output.checkpoint", cfg.output.checkpoint}};
  if (cfg.sampler.uses_score_model() && cfg.diffusion.score == ScoreKind::trained) {
    const std::string model = cfg.diffusion.model_file;
    const std::string warmup = replace_h5_suffix(model, ".warmup.h5");
    files.push_back({"diffusion.model_file", model});
    files.push_back({"diffusion.model_file (its warm-up output)", warmup});
    files.push_back(
        {"diffusion.model_file (its warm-up checkpoint)", replace_h5_suffix(warmup, ".ckpt.h5")});
  }
  if (cfg.model == ModelType::rbm) {
    files.push_back({"rbm.model_file", cfg.rbm.model_file});
    files.push_back({"rbm_training.output", cfg.rbm_training.output});
    if (!cfg.rbm_training.data.empty())
      files.push_back({"rbm_training.data", cfg.rbm_training.data});
  }
  agree<InputError>(comm, [&] {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0) return;
    std::vector<std::filesystem::path> canonical;
    for (const auto& [key, path] : files) {
      std::error_code ec;
      canonical.push_back(std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec));
      if (ec) throw InputError(key + ": '" + path + "': " + ec.message());
      for (std::size_t j = 0; j + 1 < canonical.size(); ++j)
        if (canonical[j] == canonical.back())
          throw InputError(key + ": '" + path + "' is the same file as " + files[j].first + " '" +
                           files[j].second + "'; choose another");
    }
  });
}

bool file_exists(const std::string& key, const std::string& path, MPI_Comm comm) {
  return file_kind(key, path, comm) != FileKind::missing;
}

}  // namespace latdiff
