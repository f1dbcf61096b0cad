#pragma once
// Shared rig for DDR tests: the DDR4-2400 preset, byte addresses under its mapping, and a
// loop that drives one channel from command to command.
#include <map>
#include <string>
#include <vector>
#include "sim/core/build_info.h"

#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/memory/ddr_channel.h"
#include "sim/memory/ddr_spec.h"
#include "sim/memory/memory_factory.h"

namespace bpsim::memory::testing {

/// The validated `memory:` section of configs/memory/<file>, with overrides applied.
inline config::Values preset_values(const std::string& file, const std::vector<std::string>& sets = {}) {
  config::Node n = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/memory/" + file);
  for (const auto& s : sets) config::apply_override(n, s);
  return config::validate(*n.find("memory"), *memory_schema(), "memory");
}

inline DdrSpec preset(const std::vector<std::string>& sets = {}) {
  return ddr_spec_from(preset_values("ddr4_2400.yaml", sets));
}

/// Byte address of (rank, bank group, bank, row, column-burst) under the preset's mapping
/// RoRaBaCoBgCh (LSB first: 6 burst bits, Ch 0, Bg 2, Co 7, Ba 2, Ra 1, Ro 16).
inline uint64_t addr(uint64_t rank, uint64_t bg, uint64_t bank, uint64_t row, uint64_t col) {
  return (((((row << 1 | rank) << 2 | bank) << 7 | col) << 2 | bg) << 6);
}

inline DdrRequest rd(uint64_t id, uint64_t address) {
  DdrRequest r;
  r.id = id;
  r.addr = address;
  return r;
}

inline DdrRequest wr(uint64_t id, uint64_t address) {
  DdrRequest r = rd(id, address);
  r.write = true;
  return r;
}

/// Runs the channel until every request is served; returns completion cycle per id.
inline std::map<uint64_t, uint64_t> drain(DdrChannel& ch, std::vector<DdrRequest> reqs, const AddressMapper& m) {
  std::map<uint64_t, uint64_t> done;
  uint64_t now = 0;
  size_t next = 0;
  std::vector<DdrCompletion> out;
  while (done.size() < reqs.size()) {
    while (next < reqs.size() && !ch.full()) {
      reqs[next].a = m.decode(reqs[next].addr);
      reqs[next].arrive = now;
      ch.enqueue(reqs[next++]);
    }
    now = ch.next_issue(now, now);
    REQUIRE(now != UINT64_MAX);
    out.clear();
    ch.issue(now, out);
    for (auto& c : out) done[c.id] = c.done;
    now += 1;
  }
  return done;
}

/// A preset channel (with `--set`-style overrides) with its counters and address mapper.
struct Rig {
  explicit Rig(const std::vector<std::string>& sets = {}) : s(preset(sets)) {}
  DdrSpec s;
  DdrCounters c;
  DdrChannel ch{s, c};
  AddressMapper m{s};
};

}  // namespace bpsim::memory::testing
