// The discrete samplers of an RBM on a lattice field (models/rbm_field_model.hpp): the
// chain's field is the visible layer v, and each update runs one sweep of RbmGibbs or
// RbmFlipMh (samplers/rbm_samplers.hpp) on it. A Gibbs sweep draws h ~ p(h | v) afresh before
// v ~ p(v | h), so v alone is the chain's state and nothing else needs checkpointing. Both
// updates are collective; halos of the field are current on exit.
#pragma once

#include <cstdint>

#include "lattice/field.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/rbm_field_model.hpp"
#include "samplers/rbm_samplers.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

template <class Sweep>
class RbmFieldSampler {
 public:
  RbmFieldSampler(const RbmFieldModel& model, const Geometry& g, std::uint64_t seed)
      : model_(model), sweep_(model.rbm(), seed), halo_(g) {}

  UpdateResult update(Field& phi, std::uint64_t update_index) {
    model_.gather(phi, state_.v);
    const UpdateResult r = sweep_.update(state_, update_index);
    model_.scatter(state_.v, phi);
    halo_.exchange(phi);
    return r;
  }

 private:
  const RbmFieldModel& model_;
  Sweep sweep_;
  HaloExchange halo_;
  RbmState state_;
};

using RbmFieldGibbs = RbmFieldSampler<RbmGibbs>;
using RbmFieldFlip = RbmFieldSampler<RbmFlipMh>;

}  // namespace latdiff
