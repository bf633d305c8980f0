// Which samplers run on which model, and how the deck builds each: one specialisation of
// SamplerOf<Model, type> per sampler is its registration, constrained by what the sampler
// needs from a model (models/model.hpp), so a new model gets every sampler it satisfies and a
// new sampler every model it applies to. SamplerVariant<Model> holds one alternative per
// sampler type (NotApplicable where none is registered); the deck refuses those combinations
// (io/deck.cpp check_sampler_applies), so make_sampler never meets one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <variant>

#include "diffusion/diffusion_model.hpp"
#include "io/config.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "models/model.hpp"
#include "models/rbm_field_model.hpp"
#include "samplers/diffusion_generator.hpp"
#include "samplers/diffusion_mh.hpp"
#include "samplers/hmc.hpp"
#include "samplers/langevin.hpp"
#include "samplers/mala.hpp"
#include "samplers/metropolis.hpp"
#include "samplers/rbm_field_samplers.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

// What a sampler is built from. `diffusion` is the noise process and score of the samplers of
// SamplerConfig::uses_score_model, null otherwise.
template <class Model>
struct SamplerContext {
  const Config& cfg;
  const Model& model;
  const Geometry& g;
  DiffusionModel* diffusion;
};

template <class Model, SamplerType type>
struct SamplerOf {};  // no sampler of this type runs on Model

template <LocalLatticeModel Model>
struct SamplerOf<Model, SamplerType::metropolis> {
  static Metropolis<Model> make(const SamplerContext<Model>& c) {
    const SamplerConfig& s = c.cfg.sampler;
    return {c.model, c.g, MetropolisParams{s.step, s.hits}, c.cfg.run.seed};
  }
};

template <LatticeModel Model>
struct SamplerOf<Model, SamplerType::hmc> {
  static Hmc<Model> make(const SamplerContext<Model>& c) {
    const SamplerConfig& s = c.cfg.sampler;
    return {c.model, c.g,
            HmcParams{s.integrator, s.trajectory_length, s.md_steps, s.fourier_acceleration,
                      s.fa_mass2},
            c.cfg.run.seed};
  }
};

template <LatticeModel Model>
struct SamplerOf<Model, SamplerType::langevin> {
  static Langevin<Model> make(const SamplerContext<Model>& c) {
    const SamplerConfig& s = c.cfg.sampler;
    return {c.model, c.g,
            LangevinParams{s.langevin_scheme, s.langevin_step, s.fourier_acceleration, s.fa_mass2},
            c.cfg.run.seed};
  }
};

template <LatticeModel Model>
struct SamplerOf<Model, SamplerType::mala> {
  static Mala<Model> make(const SamplerContext<Model>& c) {
    const SamplerConfig& s = c.cfg.sampler;
    return {c.model, c.g, MalaParams{s.langevin_step, s.fourier_acceleration, s.fa_mass2},
            c.cfg.run.seed};
  }
};

template <LatticeModel Model>
struct SamplerOf<Model, SamplerType::diffusion> {
  static DiffusionMh<Model> make(const SamplerContext<Model>& c) {
    DiffusionModel& d = *c.diffusion;
    return {
        c.model,       c.g, d.noise(), d.score(), DiffusionParams{d.depth(), d.gaussian_prior()},
        c.cfg.run.seed};
  }
};

template <LatticeModel Model>
struct SamplerOf<Model, SamplerType::generate> {
  static DiffusionGenerator<Model> make(const SamplerContext<Model>& c) {
    DiffusionModel& d = *c.diffusion;
    const DiffusionConfig& dc = c.cfg.diffusion;
    return {c.model,
            c.g,
            d.noise(),
            d.score(),
            GeneratorParams{dc.generator, dc.corrector_steps, dc.snr, d.gaussian_prior()},
            c.cfg.run.seed};
  }
};

template <>
struct SamplerOf<RbmFieldModel, SamplerType::gibbs> {
  static RbmFieldGibbs make(const SamplerContext<RbmFieldModel>& c) {
    return {c.model, c.g, c.cfg.run.seed};
  }
};

template <>
struct SamplerOf<RbmFieldModel, SamplerType::flip> {
  static RbmFieldFlip make(const SamplerContext<RbmFieldModel>& c) {
    return {c.model, c.g, c.cfg.run.seed};
  }
};

// The alternative of a sampler type that does not run on the model.
struct NotApplicable {
  UpdateResult update(Field&, std::uint64_t) {
    throw std::logic_error("sampler registry: a sampler that does not apply was run");
  }
};

template <class Model, SamplerType type>
concept Registered = requires(const SamplerContext<Model>& c) {
  SamplerOf<Model, type>::make(c);
};

template <class Model, SamplerType type>
struct SlotOf {
  using Type = NotApplicable;
};
template <class Model, SamplerType type>
requires Registered<Model, type>
struct SlotOf<Model, type> {
  using Type = decltype(SamplerOf<Model, type>::make(std::declval<const SamplerContext<Model>&>()));
};

inline constexpr std::size_t kSamplerTypes = static_cast<std::size_t>(SamplerType::flip) + 1;

template <class Model, class Indices = std::make_index_sequence<kSamplerTypes>>
struct VariantOf;
template <class Model, std::size_t... I>
struct VariantOf<Model, std::index_sequence<I...>> {
  using Type = std::variant<typename SlotOf<Model, static_cast<SamplerType>(I)>::Type...>;
};

// Alternative I is the sampler of SamplerType I.
template <class Model>
using SamplerVariant = typename VariantOf<Model>::Type;

// Collective (a Fourier-accelerated sampler plans its FFT). Throws std::logic_error for a type
// that does not run on Model.
template <class Model, std::size_t I = 0>
SamplerVariant<Model> make_sampler(SamplerType type, const SamplerContext<Model>& c) {
  if constexpr (I == kSamplerTypes) {
    throw std::logic_error("make_sampler: unhandled sampler type");
  } else {
    if (static_cast<std::size_t>(type) != I) return make_sampler<Model, I + 1>(type, c);
    constexpr auto slot = static_cast<SamplerType>(I);
    if constexpr (Registered<Model, slot>)
      return SamplerVariant<Model>(std::in_place_index<I>, SamplerOf<Model, slot>::make(c));
    else
      throw std::logic_error("make_sampler: the sampler does not run on this model");
  }
}

}  // namespace latdiff
