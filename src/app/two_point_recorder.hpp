// Records /correlators and /coarse (output.correlators, output.coarse): two-point functions and
// block-spin levels per measurement or averaged per block of measurements.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/checkpoint.hpp"
#include "io/config.hpp"
#include "io/output_file.hpp"
#include "lattice/field.hpp"
#include "observables/block_spin.hpp"
#include "observables/correlators.hpp"

namespace latdiff {

// The /correlators and /coarse records. Every measurement yields one flat row of all recorded
// quantities (segments in a fixed order); rows are summed into ChainState::block_sums and the
// mean of every full block (one measurement per block unless output.correlators = block) is
// split into the datasets' rows. xi_2 is computed from the block's mean G(0), G(p_min).
class TwoPointRecorder {
 public:
  // Collective over g.comm() (plans the FFT and the block-spin levels as needed). `g` must
  // outlive the object.
  TwoPointRecorder(const OutputConfig& out, const Geometry& g) : g_(g) {
    const bool corr = out.correlators != CorrelatorMode::none;
    block_ = out.correlators == CorrelatorMode::block ? out.block_measurements : 1;
    const auto d = static_cast<std::size_t>(g.dim());
    if (corr) {
      corr_ = std::make_unique<Correlators>(g);
      layout_.groups.push_back({"/correlators", {}});
      layout_.step_series.push_back("/correlators/step");
      if (radial()) {
        add("/correlators/G_radial", {corr_->radial_n2().size()});
        layout_.fixed.emplace_back("/correlators/radial_n2", corr_->radial_n2());
        layout_.fixed.emplace_back("/correlators/radial_count", corr_->radial_count());
      } else {
        add("/correlators/G", {g.global_dims().begin(), g.global_dims().end()});
      }
      add("/correlators/C", {static_cast<std::size_t>(g.global_dims()[0])});
      add("/correlators/G0", {});
      add("/correlators/Gpmin", {d});
      layout_.rows.push_back({"/correlators/xi2", {}});  // derived, not summed
    }
    if (out.coarse) {
      blocks_ = std::make_unique<BlockSpin>(g);
      layout_.groups.push_back({"/coarse", {}});
      layout_.step_series.push_back("/coarse/step");
      for (int k = 0; k < blocks_->levels(); ++k) {
        const std::string level = "/coarse/level_" + std::to_string(k);
        const std::vector<int>& dims = blocks_->geometry(k).global_dims();
        layout_.groups.push_back({level, dims});
        for (const char* n : {"/mag", "/phi2", "/nn", "/G0"}) add(level + n, {});
        add(level + "/Gpmin", {dims.size()});
      }
    }
  }

  bool active() const { return width_ > 0; }
  std::size_t width() const { return width_; }
  const ExtraOutput& layout() const { return layout_; }

  // Collective. Adds the measurement of phi (halos current) to st's partial block; when the
  // block is full, appends its mean, at `step`, to r and empties the block.
  void measure(const Field& phi, std::int64_t step, ChainState& st, Records& r) {
    if (!active()) return;
    if (st.block_sums.size() != width_)
      throw std::logic_error("TwoPointRecorder: block sums of the wrong width");
    std::vector<double> row;
    row.reserve(width_);
    if (corr_) {
      const std::vector<double> gp =
          radial() ? corr_->two_point_radial(phi) : corr_->two_point(phi);
      row.insert(row.end(), gp.begin(), gp.end());
      const std::vector<double> c = timeslice_correlator(g_, phi);
      row.insert(row.end(), c.begin(), c.end());
      const LowestMomenta low = lowest_momenta(g_, phi);
      row.push_back(low.g0);
      row.insert(row.end(), low.gmin.begin(), low.gmin.end());
    }
    if (blocks_) {
      for (const LevelMeasurement& m : blocks_->measure(phi)) {
        row.insert(row.end(), {m.mag, m.phi2, m.nn, m.low.g0});
        row.insert(row.end(), m.low.gmin.begin(), m.low.gmin.end());
      }
    }
    if (row.size() != width_) throw std::logic_error("TwoPointRecorder: row of the wrong width");
    for (std::size_t i = 0; i < width_; ++i) st.block_sums[i] += row[i];
    if (++st.block_fill < block_) return;

    const auto n = static_cast<double>(st.block_fill);
    std::size_t at = 0;
    for (const Segment& seg : segments_) {
      std::vector<double>& dst = r.rows[seg.name];
      for (std::size_t i = 0; i < seg.width; ++i) dst.push_back(st.block_sums[at + i] / n);
      at += seg.width;
    }
    if (corr_) {
      r.correlators_step.push_back(step);
      const std::vector<double>& gpmin = r.rows["/correlators/Gpmin"];
      LowestMomenta low;
      low.g0 = r.rows["/correlators/G0"].back();
      low.gmin.assign(gpmin.end() - g_.dim(), gpmin.end());
      r.rows["/correlators/xi2"].push_back(second_moment_xi(low, g_.global_dims()));
    }
    if (blocks_) r.coarse_step.push_back(step);
    std::fill(st.block_sums.begin(), st.block_sums.end(), 0.0);
    st.block_fill = 0;
  }

 private:
  struct Segment {
    std::string name;
    std::size_t width;
  };
  bool radial() const { return g_.dim() >= 3; }
  void add(const std::string& name, const std::vector<std::size_t>& shape) {
    std::size_t w = 1;
    for (std::size_t c : shape) w *= c;
    segments_.push_back({name, w});
    layout_.rows.push_back({name, shape});
    width_ += w;
  }

  const Geometry& g_;
  std::int64_t block_ = 1;
  std::unique_ptr<Correlators> corr_;
  std::unique_ptr<BlockSpin> blocks_;
  std::vector<Segment> segments_;
  ExtraOutput layout_;
  std::size_t width_ = 0;
};

}  // namespace latdiff
