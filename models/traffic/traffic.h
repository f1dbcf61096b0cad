#pragma once
/// `traffic`: a synthetic request generator that drives the DRAM model through its TLM-2.0
/// socket on its own — streaming or random 64 B requests, a read/write mix and a rate. It
/// is no op loop: it supplies the shell's process (sim/engine/op_runner.h) and reports its
/// run as one record.
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "sim/engine/op_runner.h"
#include "sim/memory/dram_system.h"

namespace bpsim::traffic {

struct TrafficSpec {
  bool random = false;
  double read_fraction = 1.0;
  double rate_per_ns = 0;  ///< requests per ns; 0 = as fast as the controller accepts
  uint64_t requests = 10000;
  uint64_t base = 0;  ///< first address (stream)
  uint64_t seed = 1;
};

class TrafficGenerator : public ModelShell {
 public:
  tlm_utils::simple_initiator_socket<TrafficGenerator> socket;

  TrafficGenerator(sc_core::sc_module_name name, const TrafficSpec& spec, memory::DramSystem& dram);
  double clock_ghz() const override { return 1.0 / m_dram.spec().tck_ns; }
  double peak_macs_per_cycle() const override { return 0; }  // a request generator computes nothing
  std::vector<LeakingPart> leaking_parts() const override;

 private:
  void process() override;
  /// The generator's counters into m_stats, once.
  void register_stats();
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& ph, sc_core::sc_time& t);
  uint64_t next_address(uint64_t i);

  TrafficSpec m_spec;
  memory::DramSystem& m_dram;
  std::mt19937_64 m_rng;
  std::unique_ptr<tlm::tlm_generic_payload[]> m_pool;  ///< not copyable: a fixed array
  std::vector<size_t> m_free;
  std::vector<sc_core::sc_time> m_sent_at;
  sc_core::sc_event m_end_req, m_response;
  bool m_waiting_end_req = false;
  uint64_t m_completed = 0;
  double m_latency_ns_sum = 0;
};

}  // namespace bpsim::traffic
