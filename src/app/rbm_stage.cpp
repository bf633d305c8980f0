#include "app/rbm_stage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/errors.hpp"
#include "app/preflight.hpp"
#include "app/signals.hpp"
#include "app/simulation.hpp"
#include "app/timestamp.hpp"
#include "app/version.hpp"
#include "io/collective_verdict.hpp"
#include "io/dataset_rows.hpp"
#include "io/hdf5_handle.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/geometry.hpp"
#include "models/rbm_ais.hpp"
#include "models/rbm_model_file.hpp"
#include "models/rbm_partition.hpp"
#include "random/counter_rng.hpp"
#include "random/splitmix64.hpp"
#include "training/rbm_training.hpp"

namespace latdiff {

namespace {

constexpr const char* kRecordSchema = "latdiff rbm training";
constexpr int kRecordSchemaVersion = 1;
// auto computes log Z exactly up to this many enumerated units (2^20 states: well under a
// second per epoch).
constexpr int kAutoExactUnits = 20;

RbmUnits units_of(RbmUnitsChoice c) {
  switch (c) {
    case RbmUnitsChoice::binary:
      return RbmUnits::binary;
    case RbmUnitsChoice::spin:
      return RbmUnits::spin;
    case RbmUnitsChoice::gaussian:
      return RbmUnits::gaussian;
  }
  throw std::logic_error("rbm: unhandled units");
}

std::string model_text(const RbmParameters& p) {
  return std::to_string(p.n_visible) + " " + to_string(p.visible_units) + " visible and " +
         std::to_string(p.n_hidden) + " " + to_string(p.hidden_units) + " hidden units";
}

std::string list_text(const std::vector<double>& values) {
  std::string s = "[";
  char buf[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.6g", i ? ", " : "", values[i]);
    s += buf;
  }
  return s + "]";
}

// The visible layout of the stage: the lattice's decomposition, or blocks of a plain vector.
struct StageLayout {
  std::unique_ptr<Geometry> geometry;  // rbm.visible = lattice only
  VisibleLayout layout;
};

StageLayout stage_layout(const Config& cfg, std::int64_t n_v, MPI_Comm comm) {
  StageLayout s;
  if (cfg.rbm.visible == RbmVisibleLayout::lattice) {
    s.geometry = std::make_unique<Geometry>(cfg.lattice.dims, cfg.lattice.procs, comm);
    s.layout = VisibleLayout::lattice(*s.geometry);
  } else {
    s.layout = VisibleLayout::blocks(n_v, comm);
  }
  return s;
}

// Local. The initial model of [rbm]: the deck's lists, or W ~ N(0, init_scale^2) from run.seed,
// zero biases and unit widths.
RbmParameters deck_parameters(const Config& cfg, std::int64_t n_v) {
  const RbmConfig& r = cfg.rbm;
  RbmParameters p;
  p.visible_units = units_of(r.visible_units);
  p.hidden_units = units_of(r.hidden_units);
  p.n_visible = n_v;
  p.n_hidden = r.hidden;
  const auto nw = static_cast<std::size_t>(n_v * r.hidden);
  p.weights = r.weights;
  if (p.weights.empty()) {
    const CounterRng rng(cfg.run.seed, Stream::rbm_init);
    p.weights.resize(nw);
    for (std::size_t k = 0; k < nw; k += 4) {
      const auto z = rng.normal4(k / 4, 0);
      for (std::size_t q = 0; q < 4 && k + q < nw; ++q) p.weights[k + q] = r.init_scale * z[q];
    }
  }
  p.visible_bias = r.visible_bias.empty() ? std::vector<double>(n_v, 0.0) : r.visible_bias;
  p.hidden_bias = r.hidden_bias.empty() ? std::vector<double>(r.hidden, 0.0) : r.hidden_bias;
  if (p.visible_units == RbmUnits::gaussian)
    p.visible_sigma = r.visible_sigma.empty() ? std::vector<double>(n_v, 1.0) : r.visible_sigma;
  return p;
}

// How the per-epoch log Z is computed for p (auto resolved); throws InputError when exact is
// asked of a model too large to enumerate.
LogLikelihoodMethod log_z_method(const Config& cfg, const RbmParameters& p) {
  const LogLikelihoodMethod asked = cfg.rbm_training.log_likelihood;
  const EnumeratedLayer layer = enumerated_layer(p);
  if (asked == LogLikelihoodMethod::exact && layer.units > kRbmMaxEnumerated)
    throw InputError("rbm_training.log_likelihood: exact enumerates the " +
                     std::string(layer.hidden ? "hidden" : "visible") + " layer of " +
                     std::to_string(layer.units) + " units, more than " +
                     std::to_string(kRbmMaxEnumerated) + "; use ais or none");
  if (asked != LogLikelihoodMethod::automatic) return asked;
  return layer.units <= kAutoExactUnits ? LogLikelihoodMethod::exact : LogLikelihoodMethod::ais;
}

struct LogZ {
  double value = NAN, error = NAN;
};

// Collective. log Z of rbm by `method` (NaN for none); `epoch` keys the AIS random numbers.
LogZ log_partition(const Rbm& rbm, LogLikelihoodMethod method, const Config& cfg,
                   std::uint64_t epoch) {
  if (method == LogLikelihoodMethod::exact) return {exact_log_partition(rbm), 0.0};
  if (method == LogLikelihoodMethod::ais) {
    const AisResult r =
        ais_log_partition(rbm, cfg.rbm_training.ais_runs, cfg.rbm_training.ais_temperatures,
                          splitmix64(cfg.run.seed ^ splitmix64(epoch)));
    return {r.log_z, r.error};
  }
  return {};
}

std::string log_z_text(const LogZ& z, LogLikelihoodMethod method) {
  if (method == LogLikelihoodMethod::none) return "not computed (rbm_training.log_likelihood)";
  char buf[96];
  if (method == LogLikelihoodMethod::exact)
    std::snprintf(buf, sizeof buf, "%.10g (exact)", z.value);
  else
    std::snprintf(buf, sizeof buf, "%.6g +- %.2g (AIS)", z.value, z.error);
  return buf;
}

// Collective. Mean of -F(v) over rows (NaN for none).
double mean_minus_free_energy(const Rbm& rbm, const std::vector<std::vector<double>>& rows) {
  if (rows.empty()) return NAN;
  double sum = 0;
  for (const auto& v : rows) sum -= rbm.free_energy(v);
  return sum / static_cast<double>(rows.size());
}

struct TrainingData {
  std::vector<std::vector<double>> train, heldout;
  std::string description;  // for the model file's provenance and the report
};

// Collective. The configurations of rbm_training.data as visible values (this rank's units),
// transformed and checked (rbm_training.transform), split into training and held-out rows.
TrainingData load_data(const Config& cfg, const VisibleLayout& layout, RbmUnits units) {
  const RbmTrainingConfig& t = cfg.rbm_training;
  DatasetRows data;
  try {
    data = read_dataset_rows(t.data, t.dataset, cfg.lattice.dims, layout.global_index, layout.comm);
  } catch (const IoError& e) {
    throw InputError(std::string("rbm_training.data: ") + e.what());
  }
  const double on = Rbm::on_value(units), off = Rbm::off_value(units);
  const bool gaussian = units == RbmUnits::gaussian;
  RbmDataTransform transform = t.transform;
  if (transform == RbmDataTransform::automatic) {
    int two_valued = 1;
    for (const auto& row : data.rows)
      for (double x : row) two_valued &= (x == on || x == off) ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &two_valued, 1, MPI_INT, MPI_MIN, layout.comm);
    transform = gaussian || two_valued ? RbmDataTransform::value : RbmDataTransform::sign;
  }
  const std::string where = "rbm_training.data: '" + t.data + "' " + t.dataset;
  const bool sign = transform == RbmDataTransform::sign;
  const auto bad = [&](double x) {
    return !std::isfinite(x) || (sign ? x == 0 : !gaussian && x != on && x != off);
  };
  // The first bad value in (row, global unit) order is reported, whatever the ranks.
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  std::size_t first_row = 0, first_unit = 0;
  for (std::size_t r = 0; r < data.rows.size(); ++r)
    for (std::size_t i = 0; i < data.rows[r].size(); ++i) {
      const std::int64_t key =
          static_cast<std::int64_t>(r) * layout.global_size + layout.global_index[i];
      if (key < first && bad(data.rows[r][i])) {
        first = key;
        first_row = r;
        first_unit = i;
      }
    }
  std::int64_t global_first = first;
  MPI_Allreduce(MPI_IN_PLACE, &global_first, 1, MPI_INT64_T, MPI_MIN, layout.comm);
  agree<InputError>(layout.comm, [&] {
    if (first != global_first || first == std::numeric_limits<std::int64_t>::max()) return;
    const double x = data.rows[first_row][first_unit];
    const std::string at = " in row " + std::to_string(first_row) + " at unit " +
                           std::to_string(layout.global_index[first_unit]) + " (row-major)";
    if (!std::isfinite(x)) throw InputError(where + " holds a non-finite value" + at);
    if (sign)
      throw InputError(where + " holds 0" + at +
                       ", which has no sign; set rbm_training.transform = value");
    char value[32];
    std::snprintf(value, sizeof value, "%.6g", x);
    throw InputError(where + " holds " + value + at + ", not a " + to_string(units) + " value (" +
                     std::to_string(static_cast<int>(off)) +
                     " or 1); set rbm_training.transform = sign to train on signs");
  });
  if (sign)
    for (auto& row : data.rows)
      for (double& x : row) x = x > 0 ? on : off;
  const auto n = static_cast<std::int64_t>(data.rows.size());
  const auto held = static_cast<std::int64_t>(std::floor(t.holdout * static_cast<double>(n)));
  if (n - held < 1)
    throw InputError("rbm_training.data: '" + t.data + "' " + t.dataset + " holds " +
                     std::to_string(n) + " configurations, none left for training after " +
                     "rbm_training.holdout");
  TrainingData out;
  out.heldout.assign(data.rows.begin() + (n - held), data.rows.end());
  data.rows.resize(static_cast<std::size_t>(n - held));
  out.train = std::move(data.rows);
  out.description = "'" + t.data + "' " + t.dataset + " (" + std::to_string(n - held) +
                    " configurations, " + std::to_string(held) + " held out; " +
                    (transform == RbmDataTransform::sign ? "signs" : "values") + ")";
  return out;
}

// The learning rate of step s of S.
double learning_rate(const RbmTrainingConfig& t, std::int64_t s, std::int64_t steps) {
  const double f = steps > 1 ? static_cast<double>(s) / static_cast<double>(steps - 1) : 0.0;
  switch (t.schedule) {
    case LearningRateSchedule::constant:
      return t.learning_rate;
    case LearningRateSchedule::linear:
      return t.learning_rate + (t.learning_rate_final - t.learning_rate) * f;
    case LearningRateSchedule::exponential:
      return t.learning_rate * std::pow(t.learning_rate_final / t.learning_rate, f);
  }
  return t.learning_rate;
}

// Replicated. A random order of 0 ... n-1 for `epoch` (Fisher-Yates, counter-based).
std::vector<std::size_t> shuffled(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  const CounterRng rng(seed, Stream::rbm_shuffle);
  for (std::size_t i = n; i-- > 1;) {
    const auto j = std::min(i, static_cast<std::size_t>(rng.uniform(epoch, i) * (i + 1)));
    std::swap(order[i], order[j]);
  }
  return order;
}

// The recorded states of one phase: /rbm/positive or /rbm/negative (rank 0 holds them).
struct PhaseRecord {
  std::vector<std::int64_t> step;
  std::vector<double> visible, hidden, energy;  // visible [rows, n_v], hidden [rows, n_h]
};

// Collective. The whole visible layer of a state on rank 0 (zero elsewhere).
std::vector<double> gathered_visible(const VisibleLayout& layout, const std::vector<double>& v) {
  std::vector<double> all(static_cast<std::size_t>(layout.global_size), 0.0);
  for (std::size_t i = 0; i < v.size(); ++i) all[layout.global_index[i]] = v[i];
  int rank = 0;
  MPI_Comm_rank(layout.comm, &rank);
  MPI_Reduce(rank == 0 ? MPI_IN_PLACE : all.data(), all.data(), static_cast<int>(all.size()),
             MPI_DOUBLE, MPI_SUM, 0, layout.comm);
  return all;
}

// Collective. Rank 0 appends the states of one phase of step s and returns their text (the
// other ranks keep nothing and return "").
std::string record_phase(PhaseRecord& record, const VisibleLayout& layout, std::int64_t s,
                         const std::vector<RbmState>& states, const std::vector<double>& energy) {
  int rank = 0;
  MPI_Comm_rank(layout.comm, &rank);
  std::string text;
  for (std::size_t k = 0; k < states.size(); ++k) {
    const std::vector<double> v = gathered_visible(layout, states[k].v);
    if (rank != 0) continue;
    record.step.push_back(s);
    record.visible.insert(record.visible.end(), v.begin(), v.end());
    record.hidden.insert(record.hidden.end(), states[k].h.begin(), states[k].h.end());
    record.energy.push_back(energy[k]);
    char e[32];
    std::snprintf(e, sizeof e, "%.10g", energy[k]);
    text += "    v = " + list_text(v) + "  h = " + list_text(states[k].h) + "  E = " + e + "\n";
  }
  return text;
}

struct EpochRecord {
  std::vector<std::int64_t> epoch;
  std::vector<double> learning_rate, log_z, log_z_error, log_likelihood, heldout_log_likelihood,
      reconstruction_error;
};

void write_phase(hid_t id, const std::string& file, const std::string& group, const PhaseRecord& r,
                 std::int64_t n_v, std::int64_t n_h) {
  checked(H5Gcreate2(id, group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, file,
          "cannot create group " + group);
  const auto rows = static_cast<hsize_t>(r.step.size());
  write_dataset(id, file, group + "/step", {rows}, r.step);
  write_dataset(id, file, group + "/visible", {rows, static_cast<hsize_t>(n_v)}, r.visible);
  write_dataset(id, file, group + "/hidden", {rows, static_cast<hsize_t>(n_h)}, r.hidden);
  write_dataset(id, file, group + "/energy", {rows}, r.energy);
}

void write_record_to(const std::string& tmp, const Config& cfg, const RbmParameters& p,
                     const EpochRecord& e, const PhaseRecord& positive,
                     const PhaseRecord& negative) {
  H5Handle f = create_file(tmp, MPI_COMM_SELF);
  const hid_t id = f.get();
  write_attribute(id, tmp, "schema", std::string(kRecordSchema));
  write_attribute(id, tmp, "schema_version", kRecordSchemaVersion);
  write_attribute(id, tmp, "deck", cfg.resolved_text);
  write_attribute(id, tmp, "version", std::string(kLatdiffVersion));
  write_attribute(id, tmp, "created", now_iso8601());
  write_attribute(id, tmp, "seed", static_cast<std::uint64_t>(cfg.run.seed));
  checked(H5Gcreate2(id, "/rbm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, tmp,
          "cannot create group /rbm");
  checked(H5Gcreate2(id, "/rbm/epochs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, tmp,
          "cannot create group /rbm/epochs");
  const hsize_t n = e.epoch.size();
  write_dataset(id, tmp, "/rbm/epochs/epoch", {n}, e.epoch);
  write_dataset(id, tmp, "/rbm/epochs/learning_rate", {n}, e.learning_rate);
  write_dataset(id, tmp, "/rbm/epochs/log_z", {n}, e.log_z);
  write_dataset(id, tmp, "/rbm/epochs/log_z_error", {n}, e.log_z_error);
  write_dataset(id, tmp, "/rbm/epochs/log_likelihood", {n}, e.log_likelihood);
  write_dataset(id, tmp, "/rbm/epochs/heldout_log_likelihood", {n}, e.heldout_log_likelihood);
  write_dataset(id, tmp, "/rbm/epochs/reconstruction_error", {n}, e.reconstruction_error);
  write_phase(id, tmp, "/rbm/positive", positive, p.n_visible, p.n_hidden);
  write_phase(id, tmp, "/rbm/negative", negative, p.n_visible, p.n_hidden);
  close_file(f, tmp);
}

// Collective. Rank 0 writes the training record atomically (temporary file, fsync, rename); a
// failed write (a full disk) is an IoError naming the key, on every rank.
void write_record(const Config& cfg, const RbmParameters& p, const EpochRecord& e,
                  const PhaseRecord& positive, const PhaseRecord& negative, MPI_Comm comm) {
  try {
    write_file_atomically(cfg.rbm_training.output, comm, [&](const std::string& tmp) {
      write_record_to(tmp, cfg, p, e, positive, negative);
    });
  } catch (const IoError& ex) {
    throw IoError("rbm_training.output: " + std::string(ex.what()));
  }
}

// Rank 0's line of the epoch just recorded.
std::string epoch_line(const EpochRecord& e, std::int64_t epochs, bool heldout, const LogZ& z,
                       LogLikelihoodMethod method) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "rbm epoch %lld/%lld: ", static_cast<long long>(e.epoch.back()),
                static_cast<long long>(epochs));
  std::string text = buf;
  if (method != LogLikelihoodMethod::none) {
    std::snprintf(buf, sizeof buf, "log-likelihood %.6g", e.log_likelihood.back());
    text += buf;
    if (heldout) {
      std::snprintf(buf, sizeof buf, ", held out %.6g", e.heldout_log_likelihood.back());
      text += buf;
    }
    text += " (log Z " + log_z_text(z, method) + "); ";
  }
  std::snprintf(buf, sizeof buf, "reconstruction error %.4g\n", e.reconstruction_error.back());
  return text + buf;
}

struct Trained {
  RbmParameters parameters;
  LogZ log_z;  // of the last epoch
};

// Collective. Trains the initial parameters on the data; returns nothing when a stop signal
// ended the training.
std::optional<Trained> train(const Config& cfg, const RbmParameters& initial,
                             const VisibleLayout& layout, const TrainingData& data,
                             LogLikelihoodMethod method, MPI_Comm comm) {
  const RbmTrainingConfig& t = cfg.rbm_training;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // A seed of its own: a chain of the trained model draws from the same Gibbs streams with
  // run.seed.
  RbmTrainer trainer(initial, layout,
                     {t.gibbs_steps, t.method == RbmTrainingMethod::pcd, t.chains, t.learning_rate,
                      t.momentum, t.weight_decay},
                     splitmix64(cfg.run.seed));
  const std::size_t n = data.train.size();
  const auto batch = static_cast<std::size_t>(std::min<std::int64_t>(t.batch_size, n));
  const auto per_epoch = static_cast<std::int64_t>((n + batch - 1) / batch);
  const std::int64_t steps = t.epochs * per_epoch;
  EpochRecord epochs;
  PhaseRecord positive, negative;
  LogZ z;
  std::int64_t s = 0;
  for (std::int64_t epoch = 1; epoch <= t.epochs; ++epoch) {
    const std::vector<std::size_t> order = shuffled(n, cfg.run.seed, epoch);
    double squared_error = 0, lr = t.learning_rate;
    for (std::size_t first = 0; first < n; first += batch, ++s) {
      std::vector<std::vector<double>> rows;
      for (std::size_t k = first; k < std::min(n, first + batch); ++k)
        rows.push_back(data.train[order[k]]);
      lr = learning_rate(t, s, steps);
      trainer.set_learning_rate(lr);
      const RbmPhases phases = trainer.step(rows, static_cast<std::uint64_t>(s));
      squared_error += phases.reconstruction_error;
      if (t.record_every > 0 && s % t.record_every == 0) {
        const std::string pos =
            record_phase(positive, layout, s, phases.positive, phases.positive_energy);
        const std::string neg =
            record_phase(negative, layout, s, phases.negative, phases.negative_energy);
        if (t.print_phases && rank == 0)
          std::cout << "rbm training step " << s << " (epoch " << epoch << "), learning rate " << lr
                    << "\n  positive phase (data v, h ~ p(h | v)) and E(v, h):\n"
                    << pos << "  negative phase (after " << t.gibbs_steps << " Gibbs sweep"
                    << (t.gibbs_steps == 1 ? "" : "s") << ") and E(v, h):\n"
                    << neg << std::flush;
      }
      if (stop_requested(comm)) {
        if (rank == 0)
          std::cout << "stopped by signal during RBM training: nothing written; the training "
                       "restarts when the same deck is run again\n"
                    << std::flush;
        return std::nullopt;
      }
    }
    const Rbm rbm(trainer.parameters(), layout);
    z = log_partition(rbm, method, cfg, static_cast<std::uint64_t>(epoch));
    epochs.epoch.push_back(epoch);
    epochs.learning_rate.push_back(lr);
    epochs.log_z.push_back(z.value);
    epochs.log_z_error.push_back(z.error);
    epochs.log_likelihood.push_back(mean_minus_free_energy(rbm, data.train) - z.value);
    epochs.heldout_log_likelihood.push_back(mean_minus_free_energy(rbm, data.heldout) - z.value);
    epochs.reconstruction_error.push_back(
        squared_error / (static_cast<double>(n) * static_cast<double>(layout.global_size)));
    if (rank == 0) std::cout << epoch_line(epochs, t.epochs, !data.heldout.empty(), z, method);
  }
  write_record(cfg, trainer.parameters(), epochs, positive, negative, comm);
  return Trained{trainer.parameters(), z};
}

// Collective. The existing model file, refused unless it is the deck's model.
void check_model_file(const Config& cfg, const RbmParameters& deck, MPI_Comm comm) {
  RbmModelFile m;
  try {
    m = read_rbm_model(cfg.rbm.model_file, comm);
  } catch (const IoError& e) {
    throw InputError(std::string("rbm.model_file: ") + e.what());
  }
  const RbmParameters& p = m.parameters;
  if (p.visible_units != deck.visible_units || p.hidden_units != deck.hidden_units ||
      p.n_visible != deck.n_visible || p.n_hidden != deck.n_hidden)
    throw InputError("rbm.model_file: '" + cfg.rbm.model_file + "' holds an RBM of " +
                     model_text(p) + ", the deck's has " + model_text(deck) +
                     " (rbm.visible_units, rbm.hidden_units, lattice.dims, rbm.hidden); choose "
                     "another rbm.model_file or fix the deck");
}

}  // namespace

int prepare_rbm_model(const Config& cfg, MPI_Comm comm) {
  if (cfg.model != ModelType::rbm) return kExitOk;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::int64_t n_v = 1;
  for (int L : cfg.lattice.dims) n_v *= L;
  const RbmParameters initial = deck_parameters(cfg, n_v);
  const std::string& path = cfg.rbm.model_file;
  if (file_exists("rbm.model_file", path, comm)) {
    check_model_file(cfg, initial, comm);
    if (rank == 0)
      std::cout << "rbm model: using '" << path
                << "' as it is ([rbm_training] keys unused; delete it to retrain)\n"
                << std::flush;
    return kExitOk;
  }
  const RbmTrainingConfig& t = cfg.rbm_training;
  const RunLock lock =
      lock_files({{"rbm.model_file", path}, {"rbm_training.output", t.output}}, comm);
  // Another run may have written it between the look and the lock.
  if (file_exists("rbm.model_file", path, comm)) {
    check_model_file(cfg, initial, comm);
    return kExitOk;
  }
  check_atomic_target("rbm.model_file", path, comm);
  const bool training = !t.data.empty();
  std::optional<RunLock> data_lock;
  std::optional<TrainingData> data;
  const StageLayout stage = stage_layout(cfg, n_v, comm);
  if (training) {
    check_atomic_target("rbm_training.output", t.output, comm);
    check_training_record_replaceable(cfg, comm);
    data_lock = lock_input_file("rbm_training.data", t.data, comm);
    data = load_data(cfg, stage.layout, initial.visible_units);
  }
  const LogLikelihoodMethod method = log_z_method(cfg, initial);
  const LogZ initial_log_z = log_partition(Rbm(initial, stage.layout), method, cfg, 0);
  if (rank == 0)
    std::cout << "rbm model: " << model_text(initial)
              << "; initial log Z = " << log_z_text(initial_log_z, method) << "\n"
              << std::flush;
  RbmModelFile m{initial, "the initial parameters of the deck", kLatdiffVersion, now_iso8601()};
  LogZ log_z = initial_log_z;
  if (training) {
    const std::optional<Trained> trained = train(cfg, initial, stage.layout, *data, method, comm);
    if (!trained) return kExitInterrupted;
    m.parameters = trained->parameters;
    log_z = trained->log_z;
    m.trained_on = data->description + ", " + std::to_string(t.epochs) + " epochs of " +
                   (t.method == RbmTrainingMethod::pcd ? "PCD-" : "CD-") +
                   std::to_string(t.gibbs_steps) + "; training record '" + t.output + "'";
  }
  m.trained_on += "\n" + cfg.resolved_text;
  try {
    write_rbm_model(path, m, comm);
  } catch (const IoError& e) {
    throw IoError(std::string("rbm.model_file: ") + e.what());
  }
  if (rank == 0)
    std::cout << "rbm model: written to '" << path << "'; log Z = " << log_z_text(log_z, method)
              << "\n";
  return kExitOk;
}

}  // namespace latdiff
