// The models a chain can run (model.type), each registered by one specialisation of
// ChainModel: how the deck builds it, the values a fresh chain starts from, which start
// values it admits, the checksum of a model read from a file (part of the chain's identity,
// ChainInputs::model_checksum) and the diffusion model of its score-based samplers. Every
// sampler that applies to it comes from app/sampler_registry.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "app/errors.hpp"
#include "diffusion/diffusion_model.hpp"
#include "io/config.hpp"
#include "io/hdf5_handle.hpp"
#include "lattice/geometry.hpp"
#include "models/phi4.hpp"
#include "models/rbm_field_model.hpp"
#include "models/rbm_model_file.hpp"

namespace latdiff {

template <class Model>
struct ChainModel;

template <>
struct ChainModel<Phi4Model> {
  // Local.
  static Phi4Model make(const Config& cfg, const Geometry& g) { return {g, cfg.action}; }
  static double cold_value(const Phi4Model&) { return 0.0; }
  static double hot_value(const Phi4Model&, double u) { return 2 * u - 1; }
  static bool admissible(const Phi4Model&, double x) { return std::isfinite(x); }
  static std::string admissible_text(const Phi4Model&) { return "finite"; }
  static std::optional<std::uint64_t> checksum(const Phi4Model&) { return std::nullopt; }
  // Collective (a trained score is read from its file).
  static std::unique_ptr<DiffusionModel> diffusion(const Config& cfg, const Geometry& g,
                                                   const Phi4Model& m) {
    return std::make_unique<DiffusionModel>(cfg.diffusion, g, m.couplings());
  }
};

template <>
struct ChainModel<RbmFieldModel> {
  // Collective: reads rbm.model_file (written by the RBM model stage, app/rbm_stage.hpp).
  static RbmFieldModel make(const Config& cfg, const Geometry& g) {
    try {
      return {g, read_rbm_model(cfg.rbm.model_file, g.comm()).parameters};
    } catch (const IoError& e) {
      throw InputError(std::string("rbm.model_file: ") + e.what());
    }
  }
  static double cold_value(const RbmFieldModel& m) { return m.cold_value(); }
  static double hot_value(const RbmFieldModel& m, double u) { return m.hot_value(u); }
  static bool admissible(const RbmFieldModel& m, double x) { return m.admissible(x); }
  static std::string admissible_text(const RbmFieldModel& m) { return m.admissible_text(); }
  static std::optional<std::uint64_t> checksum(const RbmFieldModel& m) {
    return rbm_checksum(m.rbm().parameters());
  }
  // Collective. A trained score and the white prior (the deck refuses free_field for an RBM).
  static std::unique_ptr<DiffusionModel> diffusion(const Config& cfg, const Geometry& g,
                                                   const RbmFieldModel&) {
    return std::make_unique<DiffusionModel>(cfg.diffusion, g, std::nullopt);
  }
};

}  // namespace latdiff
