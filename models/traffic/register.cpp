#include "models/traffic/traffic.h"
#include "sim/core/binder.h"

namespace bpsim {

namespace {
constexpr double kMinRatePerNs = 1e-6;
/// `pattern:` (the field: whether addresses are random).
constexpr config::EnumName<bool> kPatternNames[] = {{false, "stream"}, {true, "random"}};

const config::Binder<traffic::TrafficSpec>& traffic_binder() {
  using traffic::TrafficSpec;
  static const config::Binder<TrafficSpec> s = [] {
    config::Binder<TrafficSpec> s("traffic", "synthetic DRAM requests");
    s.choice("pattern", &TrafficSpec::random, kPatternNames, "consecutive 64 B blocks, or uniformly random ones")
        .def("stream");
    s.real("read_fraction", &TrafficSpec::read_fraction, "", "share of reads; the rest are writes")
        .def(1.0)
        .range(0, 1);
    s.real("rate_per_ns", &TrafficSpec::rate_per_ns, "requests/ns",
           "offered request rate, 1e-6 (1 kHz) or more; 0 = as fast as the controller accepts")
        .def(0.0)
        .range(0, 1000);
    s.integer("requests", &TrafficSpec::requests, "", "requests to send").def(10000).range(1, int64_t(1) << 32);
    s.integer("base_address", &TrafficSpec::base, "bytes", "first address of a stream").def(0).at_least(0);
    return s;
  }();
  return s;
}
}  // namespace

void register_traffic(Registry& r) {
  AcceleratorKind k;
  k.kind = "traffic";
  k.description = "synthetic request generator driving the DRAM model on its own";
  k.schema = traffic_binder().schema();
  k.needs_workload = false;    // no op-cost estimate, no stream, no energy actions or parts of its own
  k.memory = MemoryUse::dram;  // binds the DRAM device's TLM socket
  k.make = [](const BuildContext& ctx) -> std::unique_ptr<Accelerator> {
    memory::DramSystem& dram = ctx.dram_device();
    traffic::TrafficSpec t = traffic_binder().parse(ctx.params);
    // A slower rate spaces requests so far apart that the idle DRAM's refresh bookkeeping,
    // one step per tREFI, would run for hours.
    if (t.rate_per_ns > 0 && t.rate_per_ns < kMinRatePerNs)
      throw ctx.params.error("rate_per_ns", "must be 0 (unpaced) or at least 1e-6 requests/ns (1 kHz)");
    if (t.base % dram.spec().burst_bytes())
      throw ctx.params.error(
          "base_address", "must be a multiple of the burst size (" + std::to_string(dram.spec().burst_bytes()) + " B)");
    t.seed = ctx.seed;
    return std::make_unique<traffic::TrafficGenerator>(ctx.name.c_str(), t, dram);
  };
  r.add(std::move(k));
}

}  // namespace bpsim
