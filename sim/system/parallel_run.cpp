#include "sim/system/parallel_run.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "sim/core/error.h"
#include "sim/ir/liveness.h"
#include "sim/source/load.h"
#include "sim/system/device_run.h"
#include "sim/system/fabric.h"
#include "sim/system/parallel.h"
#include "sim/system/pipeline.h"
#include "sim/system/tensor_parallel.h"

namespace bpsim::system {

namespace {

using workload::Op;
using workload::OpGraph;
using workload::Phase;
using workload::TensorRole;

struct Degrees {
  uint32_t D = 1, P = 1, T = 1, M = 1;
  uint32_t devices() const { return D * P * T; }
};

/// Device of pipeline stage `stage`, data-parallel replica `replica`, tensor shard `shard`:
/// the shards of one replica's stage are consecutive, then the replicas, then the stages.
uint32_t device_of(const Degrees& d, uint32_t stage, uint32_t replica, uint32_t shard) {
  return (stage * d.D + replica) * d.T + shard;
}

class Refusal {
 public:
  Refusal(const RunSpec& top, const SystemSpec& sys) : m_top(top), m_sys(sys) {}
  /// An InputError at system.parallel.KEY (or the section, or system:, as far as written).
  [[noreturn]] void operator()(const std::string& key, const std::string& why) const {
    const config::Node* s = m_top.root.find("system");
    const config::Node* p = s ? s->find("parallel") : nullptr;
    const config::Node* k = p && !key.empty() ? p->find(key) : nullptr;
    const Location at = k ? k->loc : p ? p->loc : m_sys.where;
    throw InputError(at, "system.parallel" + (key.empty() ? std::string() : "." + key), why);
  }

 private:
  const RunSpec& m_top;
  const SystemSpec& m_sys;
};

void check_system(const SystemSpec& sys, const Degrees& d, const Refusal& refuse) {
  const DeviceSpec& first = sys.devices.front();
  for (const DeviceSpec& dev : sys.devices) {
    if (dev.group != first.group)
      refuse("", "parallelism runs on identical devices: give one entry of system.devices with count: " +
                     std::to_string(d.devices()) + " (found '" + first.group + "' and '" + dev.group + "')");
    if (dev.memory_owner != dev.index)
      refuse("", "parallelism gives every device its own memory; device '" + dev.name + "' shares another's");
  }
  if (sys.devices.size() != d.devices())
    refuse("", "data × pipeline × tensor = " + std::to_string(d.D) + " × " + std::to_string(d.P) + " × " +
                   std::to_string(d.T) + " needs " + std::to_string(d.devices()) + " devices; the system has " +
                   std::to_string(sys.devices.size()));
  if (d.M > 1 && d.P == 1)
    refuse("microbatches",
           "micro-batches are a pipeline's (pipeline > 1); gradient accumulation without a pipeline is not modelled");
  const int kinds = int(d.D > 1) + int(d.P > 1) + int(d.T > 1);
  if (kinds > 1 && sys.fabric.topology != Topology::switch_)
    refuse("",
           "combined parallelism runs several groups' collectives and transfers at once; that is modelled on a "
           "switch (each device's own links, no link shared between groups): system.fabric.topology: switch");
}

/// The device's ops as they ran: seconds and energy per op of the graph, from its report.
struct OpCosts {
  std::vector<double> seconds, energy_pj;
  std::vector<uint64_t> dram_read, dram_write;
  double device_seconds = 0, device_energy_pj = 0, leakage_pj_per_s = 0;
  uint64_t device_peak_bytes = 0;
};

OpCosts op_costs(const OpGraph& g, const DeviceReport& dr, const std::string& device) {
  const nlohmann::json& rep = dr.report;
  OpTimes t = op_times(g, dr, device);
  OpCosts c;
  c.seconds = std::move(t.seconds);
  for (const Op& o : g.ops) {
    const nlohmann::json& e = *t.entry[o.id];
    c.energy_pj.push_back(e.at("energy_pj").get<double>());
    c.dram_read.push_back(e.value("dram_read_bytes", uint64_t(0)));
    c.dram_write.push_back(e.value("dram_write_bytes", uint64_t(0)));
  }
  c.device_seconds = rep.at("totals").at("seconds").get<double>();
  c.device_energy_pj = rep.at("totals").at("energy_pj").get<double>();
  const LeakageRates leak = leakage_rates(rep);
  c.leakage_pj_per_s = leak.parts_pj_per_s + leak.dram_pj_per_s;
  c.device_peak_bytes = rep.at("memory").at("peak_bytes").get<uint64_t>();
  return c;
}

bool backward(Phase p) { return p == Phase::backward_data || p == Phase::backward_weight || p == Phase::recompute; }

/// Tensor parallelism's blocking all-reduces, as waits before the op after each: per block,
/// after each row-parallel linear's forward (and recompute) and after each column-parallel
/// group's last input-gradient op.
struct TensorWaits {
  std::vector<double> before;   ///< per op
  std::vector<uint64_t> bytes;  ///< per op: the all-reduced tensor's bytes (0: none before it)
  uint32_t allreduces = 0;
  double seconds = 0;
};

TensorWaits tensor_waits(const OpGraph& g, const TensorSharding& sh,
                         const std::function<CollectiveCost(uint64_t)>& cost) {
  TensorWaits w;
  const size_t n = g.ops.size();
  w.before.assign(n, 0);
  w.bytes.assign(n, 0);
  auto place = [&](size_t after, uint64_t bytes) {
    if (after + 1 >= n) throw std::logic_error("tensor parallelism: an all-reduce after the step's last op");
    const CollectiveCost c = cost(bytes);
    w.before[after + 1] += c.seconds;
    w.bytes[after + 1] = bytes;
    ++w.allreduces;
    w.seconds += c.seconds;
  };
  auto written = [&](const Op& o) { return o.writes.empty() ? uint64_t(0) : g.tensors[o.writes.front()].bytes; };
  std::unordered_map<std::string, bool> row;
  for (const std::string& l : sh.row_parallel) row[l] = true;
  // Row-parallel: after the last op of each run of the layer's forward (or recompute) ops.
  for (size_t i = 0; i < n; ++i) {
    const Op& o = g.ops[i];
    if ((o.phase != Phase::forward && o.phase != Phase::recompute) || !row.count(o.layer)) continue;
    const bool run_ends = i + 1 == n || g.ops[i + 1].layer != o.layer || g.ops[i + 1].phase != o.phase;
    if (run_ends) place(i, written(o));
  }
  // Column-parallel: after the group's last input-gradient op.
  for (const std::string& group : sh.column_parallel) {
    std::vector<std::string> layers;
    for (size_t a = 0, b; a <= group.size(); a = b + 1) {
      b = group.find(',', a);
      if (b == std::string::npos) b = group.size();
      layers.push_back(group.substr(a, b - a));
    }
    size_t last = n;
    for (size_t i = 0; i < n; ++i)
      if (g.ops[i].phase == Phase::backward_data &&
          std::find(layers.begin(), layers.end(), g.ops[i].layer) != layers.end())
        last = i;
    if (last != n) place(last, written(g.ops[last]));
  }
  return w;
}

nlohmann::json bucket_json(const std::vector<Bucket>& buckets) {
  nlohmann::json a = nlohmann::json::array();
  for (const Bucket& b : buckets)
    a.push_back({{"bytes", b.bytes},
                 {"gradients", b.grads.size()},
                 {"ready_s", b.ready_s},
                 {"start_s", b.start_s},
                 {"end_s", b.end_s}});
  return a;
}

/// The weight gradients of `g`, numbered in tensor order, with their bytes; and the timed ops.
struct Grads {
  std::unordered_map<uint32_t, uint32_t> index;  ///< tensor id → gradient
  std::vector<uint64_t> bytes;
  uint64_t total = 0;
};

Grads gradients_of(const OpGraph& g) {
  Grads r;
  for (const workload::Tensor& t : g.tensors)
    if (t.role == TensorRole::weight_gradient) {
      r.index.emplace(t.id, uint32_t(r.bytes.size()));
      r.bytes.push_back(t.bytes);
      r.total += t.bytes;
    }
  return r;
}

TimedOp timed(const OpGraph& g, const Grads& gr, const OpCosts& c, const TensorWaits& w, uint32_t op) {
  const Op& o = g.ops[op];
  TimedOp t;
  t.seconds = c.seconds[op];
  t.wait_before_s = w.before[op];
  for (uint32_t x : o.phase == Phase::update ? o.reads : o.writes)
    if (auto it = gr.index.find(x); it != gr.index.end())
      (o.phase == Phase::update ? t.grads_waited : t.grads_written).push_back(it->second);
  return t;
}

/// Pipeline stages of one micro-batch's step: every op's stage, contiguous in the forward.
struct Stages {
  std::vector<uint32_t> of_op;
  std::vector<std::string> first_layer, last_layer;
};

Stages cut_stages(const OpGraph& g, const OpCosts& c, const Degrees& d, const Refusal& refuse) {
  // Units: the layers in the order the step first reaches them (the forward's order).
  std::unordered_map<std::string, uint32_t> unit;
  std::vector<std::string> names;
  std::vector<double> cost;
  for (const Op& o : g.ops) {
    auto [it, fresh] = unit.emplace(o.layer, uint32_t(names.size()));
    if (fresh) {
      names.push_back(o.layer);
      cost.push_back(0);
    }
    // A stage's time: M micro-batches' forward and backward, its update once.
    cost[it->second] += c.seconds[o.id] * (o.phase == Phase::update ? 1.0 : double(d.M));
  }
  // A recomputed segment (checkpointing) runs on one stage: layers joined by a tensor that
  // one recompute op writes and another reads are never cut apart.
  std::vector<bool> joined(names.size(), false);  // unit u and u+1 on one stage
  std::vector<int64_t> recompute_writer(g.tensors.size(), -1);
  for (const Op& o : g.ops) {
    if (o.phase != Phase::recompute) continue;
    const uint32_t u = unit.at(o.layer);
    for (uint32_t t : o.reads)
      if (recompute_writer[t] >= 0)
        for (uint32_t k = std::min(u, uint32_t(recompute_writer[t])); k < std::max(u, uint32_t(recompute_writer[t]));
             ++k)
          joined[k] = true;
    for (uint32_t t : o.writes) recompute_writer[t] = u;
  }
  std::vector<uint32_t> group_of(names.size(), 0);
  std::vector<double> group_cost;
  for (size_t u = 0; u < names.size(); ++u) {
    if (u == 0 || !joined[u - 1]) group_cost.push_back(0);
    group_of[u] = uint32_t(group_cost.size() - 1);
    group_cost.back() += cost[u];
  }
  if (group_cost.size() < d.P)
    refuse("pipeline", std::to_string(d.P) +
                           " stages need at least as many layers (or recomputed segments, which "
                           "stay on one stage); the step has " +
                           std::to_string(group_cost.size()));
  const std::vector<size_t> first = balanced_cuts(group_cost, d.P);
  std::vector<uint32_t> stage_of_group(group_cost.size());
  for (uint32_t s = 0; s < d.P; ++s)
    for (size_t k = first[s]; k < (s + 1 < d.P ? first[s + 1] : group_cost.size()); ++k) stage_of_group[k] = s;
  std::vector<uint32_t> stage_of_unit(names.size());
  for (size_t u = 0; u < names.size(); ++u) stage_of_unit[u] = stage_of_group[group_of[u]];
  // A forward op runs no earlier than the stages of what it reads; a layer's other ops where
  // its forward ran.
  Stages st;
  st.of_op.assign(g.ops.size(), 0);
  std::vector<int64_t> writer_stage(g.tensors.size(), -1);
  std::unordered_map<std::string, uint32_t> layer_stage;
  for (const Op& o : g.ops) {
    uint32_t s = stage_of_unit[unit.at(o.layer)];
    if (o.phase == Phase::forward) {
      for (uint32_t t : o.reads)
        if (writer_stage[t] >= 0) s = std::max(s, uint32_t(writer_stage[t]));
      layer_stage[o.layer] = std::max(layer_stage[o.layer], s);
    } else if (auto it = layer_stage.find(o.layer); it != layer_stage.end()) {
      s = it->second;
    }
    st.of_op[o.id] = s;
    for (uint32_t t : o.writes)
      if (writer_stage[t] < 0) writer_stage[t] = s;
  }
  st.first_layer.assign(d.P, "");
  st.last_layer.assign(d.P, "");
  for (const Op& o : g.ops) {
    if (o.phase != Phase::forward) continue;
    const uint32_t s = st.of_op[o.id];
    if (st.first_layer[s].empty()) st.first_layer[s] = o.layer;
    st.last_layer[s] = o.layer;
  }
  for (uint32_t s = 0; s < d.P; ++s)
    if (st.first_layer[s].empty())
      refuse("pipeline", "stage " + std::to_string(s) + " of " + std::to_string(d.P) +
                             " would run no forward op (the network's layers do not spread over that many stages)");
  return st;
}

/// Bytes in the critical path's words, fixed to three decimals: "25.166 MB".
std::string mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f MB", double(bytes) / 1e6);
  return buf;
}

}  // namespace

ParallelStep prepare_parallel(const RunSpec& top, const SystemSpec& sys) {
  const ParallelSpec& ps = sys.parallel;
  const Refusal refuse(top, sys);
  const Degrees d{ps.data, ps.pipeline, ps.tensor, ps.microbatches};
  check_system(sys, d, refuse);

  // The device's step: batch / (D·M) samples, its transformer blocks split T ways.
  ParallelStep step;
  auto rewrite = [&](workload::NetSpec& net) {
    step.batch = net.batch;
    const uint64_t parts = uint64_t(d.D) * d.M;
    if (net.batch % parts)
      refuse(d.M > 1 ? "microbatches" : "data",
             "the batch (" + std::to_string(net.batch) +
                 ") must split evenly over data × microbatches = " + std::to_string(parts));
    net.batch /= parts;
    if (d.T > 1) step.sharding = shard_transformer_blocks(net, d.T, "system.parallel.tensor");
  };
  const config::Node* wl = top.root.find("workload");
  if (!wl) throw InputError(top.root.loc, "", "missing required section 'workload' (the step the system runs)");
  const DeviceEstimates est = device_estimates(sys.devices.front());
  step.graph = workload::load_workload(*wl, "workload", top.run.seed, est.cycles, est.energy_pj, rewrite);
  if (step.graph->memory.framework != "none")
    throw InputError(wl->loc, "workload", "a system runs the step on accelerators: framework: none");
  return step;
}

SystemResult run_parallel(const RunSpec& top, const SystemSpec& sys) {
  const ParallelSpec& ps = sys.parallel;
  const Refusal refuse(top, sys);
  const Degrees d{ps.data, ps.pipeline, ps.tensor, ps.microbatches};
  const Fabric& fabric = sys.fabric;
  const ParallelStep prepared = prepare_parallel(top, sys);
  const std::shared_ptr<OpGraph>& graph = prepared.graph;
  const uint64_t batch = prepared.batch;
  const TensorSharding& sharding = prepared.sharding;
  const DeviceSpec& dev = sys.devices.front();
  const OpGraph& g = *graph;
  RunSpec one = device_run_spec(top, dev, graph);
  const DeviceReport dr = simulate_device(one, dev.name);
  const OpCosts c = op_costs(g, dr, dev.name);

  // Collectives over the groups of device 0 (every group is priced alike: identical devices,
  // and concurrent groups share no link, check_system).
  auto group = [&](bool data) {
    std::vector<uint32_t> m;
    for (uint32_t i = 0; i < (data ? d.D : d.T); ++i) m.push_back(data ? device_of(d, 0, i, 0) : device_of(d, 0, 0, i));
    return m;
  };
  auto collective_cost = [&](const std::vector<uint32_t>& members, uint64_t bytes) {
    try {
      return collective(fabric, Collective::all_reduce, ps.allreduce, bytes, members, ps.inner_group);
    } catch (const std::invalid_argument& e) {
      refuse("allreduce",
             "the all-reduce over " + std::to_string(members.size()) + " devices cannot run as asked: " + e.what());
    }
  };
  const std::vector<uint32_t> dp_group = group(true), tp_group = group(false);
  TensorWaits tw;
  tw.before.assign(g.ops.size(), 0);
  tw.bytes.assign(g.ops.size(), 0);
  if (d.T > 1) tw = tensor_waits(g, sharding, [&](uint64_t b) { return collective_cost(tp_group, b); });
  const Grads grads = gradients_of(g);
  // Every all-reduce of the step, by stage and size, for the links' traffic (below).
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> dp_calls;
  uint32_t dp_stage = 0;
  bool counting = true;  // the placement with free communication counts nothing
  std::function<double(uint64_t)> allreduce_s;
  if (d.D > 1)
    allreduce_s = [&](uint64_t b) {
      if (counting) ++dp_calls[{dp_stage, b}];
      return collective_cost(dp_group, b).seconds;
    };
  const uint64_t bucket_bytes = uint64_t(ps.bucket_mb * 1e6);

  nlohmann::json par;
  par["data"] = d.D;
  par["pipeline"] = d.P;
  par["tensor"] = d.T;
  par["microbatches"] = d.M;
  par["schedule"] = d.P > 1 ? config::enum_name(kPipelineScheduleNames, ps.schedule) : "none";
  par["allreduce"] = config::enum_name(kAlgorithmNames, ps.allreduce);
  par["bucket_mb"] = ps.bucket_mb;
  par["overlap"] = ps.overlap;
  par["devices"] = d.devices();
  par["batch"] = batch;
  par["device_batch"] = g.batch;
  par["simulated"] = "one device's step (batch " + std::to_string(g.batch) +
                     (d.T > 1 ? ", transformer blocks split " + std::to_string(d.T) + " ways" : std::string()) +
                     ") on its model, as " + dev.name +
                     ": every device of a data- or tensor-parallel group runs the same ops, so " +
                     "one simulation gives them all" +
                     std::string(d.P > 1 ? "; each pipeline stage runs its ops of that simulation" : "") +
                     "; ops and the critical path are those of one representative device per stage";

  SystemResult res;
  res.placement = "parallel";
  const std::string dev_kind = dev.kind->kind;
  auto device_name = [&](uint32_t i) { return sys.devices.at(i).name; };
  double step = 0, compute = 0, dp_comm = 0, exposed = 0;
  std::vector<uint32_t> op_stage(g.ops.size(), 0);
  nlohmann::json gradient = {{"bytes", grads.total}};
  // Each directed link's traffic over the step: every group's collectives and every
  // pipeline's transfers; busy = bytes / β.
  std::vector<uint64_t> by_link;
  auto add_collective = [&](const std::vector<uint32_t>& members, uint64_t bytes, uint64_t times) {
    std::vector<uint64_t> one;
    collective(fabric, Collective::all_reduce, ps.allreduce, bytes, members, ps.inner_group, &one);
    if (by_link.size() < one.size()) by_link.resize(one.size(), 0);
    for (size_t l = 0; l < one.size(); ++l) by_link[l] += one[l] * times;
  };
  auto add_route = [&](const std::vector<uint32_t>& links, uint64_t bytes) {
    for (uint32_t l : links) {
      if (by_link.size() <= l) by_link.resize(size_t(l) + 1, 0);
      by_link[l] += bytes;
    }
  };
  uint64_t tp_allreduces = tw.allreduces;
  if (d.P == 1) {
    std::vector<TimedOp> ops;
    ops.reserve(g.ops.size());
    for (const Op& o : g.ops) ops.push_back(timed(g, grads, c, tw, o.id));
    const AllReduceTimeline tl = allreduce_timeline(ops, grads.bytes, bucket_bytes, ps.overlap, 0, allreduce_s);
    step = tl.end_s;
    compute = tl.compute_s;
    dp_comm = tl.communication_s;
    exposed = tl.end_s - tl.compute_s;
    gradient["buckets"] = bucket_json(tl.buckets);
    // Every device: its own run's energy, plus its parts' leakage while it waits.
    const double energy = c.device_energy_pj + c.leakage_pj_per_s * (step - c.device_seconds);
    for (uint32_t i = 0; i < d.devices(); ++i)
      res.devices.push_back({device_name(i), dev_kind, g.ops.size(), compute, energy,
                             dr.report.at("totals").at("dram_read_bytes").get<uint64_t>(),
                             dr.report.at("totals").at("dram_write_bytes").get<uint64_t>(), c.device_peak_bytes,
                             device_name(i), ""});
    par["device_peak_bytes"] = c.device_peak_bytes;
    // Device 0's ops and the chain that ended last.
    const std::string d0 = device_name(0);
    for (const Op& o : g.ops)
      res.ops.push_back({o.name, workload::to_string(o.phase), workload::to_string(o.kind), d0, tl.op_start_s[o.id],
                         tl.op_start_s[o.id] + c.seconds[o.id], c.energy_pj[o.id], c.dram_read[o.id],
                         c.dram_write[o.id]});
    for (auto it = tl.critical.rbegin(); it != tl.critical.rend(); ++it) {
      if (*it >= 0) {
        const Op& o = g.ops[size_t(*it)];
        res.critical_path.push_back({"op", o.name, d0, tl.op_start_s[o.id], tl.op_start_s[o.id] + c.seconds[o.id]});
      } else {
        const Bucket& b = tl.buckets[size_t(-1 - *it)];
        res.critical_path.push_back({"collective",
                                     "all-reduce of bucket " + std::to_string(-1 - *it) + " (" + mb(b.bytes) + ")",
                                     "data-parallel group of " + d0, b.start_s, b.end_s});
      }
    }
  } else {
    const Stages st = cut_stages(g, c, d, refuse);
    op_stage = st.of_op;
    PipelineInput in;
    in.schedule = ps.schedule;
    in.microbatches = d.M;
    in.stages.assign(d.P, StageCost{});
    in.boundaries.assign(d.P - 1, StageBoundary{});
    std::vector<double> stage_compute(d.P, 0), stage_energy(d.P, 0);
    std::vector<uint64_t> stage_rd(d.P, 0), stage_wr(d.P, 0);
    std::vector<std::vector<uint32_t>> stage_ops(d.P);
    for (const Op& o : g.ops) {
      const uint32_t s = st.of_op[o.id];
      stage_ops[s].push_back(o.id);
      const double t = c.seconds[o.id] + tw.before[o.id];
      const uint64_t reps = o.phase == Phase::update ? 1 : d.M;
      stage_compute[s] += c.seconds[o.id] * double(reps);
      stage_energy[s] += c.energy_pj[o.id] * double(reps);
      stage_rd[s] += c.dram_read[o.id] * reps;
      stage_wr[s] += c.dram_write[o.id] * reps;
      if (o.phase == Phase::forward) in.stages[s].forward_s += t;
      else if (o.phase != Phase::update) in.stages[s].backward_s += t;
    }
    // What crosses each cut: a forward tensor to every later stage that reads it, a gradient
    // to every earlier one, once per cut it passes; and what a stage keeps of an earlier
    // stage's forward for its own backward.
    std::vector<int64_t> writer(g.tensors.size(), -1);
    std::vector<uint32_t> lo(g.tensors.size(), UINT32_MAX), hi(g.tensors.size(), 0);
    std::vector<uint64_t> act_bytes(d.P, 0), grad_bytes(d.P, 0), received_saved(d.P, 0);
    std::vector<bool> counted_recv(g.tensors.size(), false);
    for (const Op& o : g.ops) {
      const uint32_t s = st.of_op[o.id];
      for (uint32_t t : o.reads) {
        if (writer[t] < 0) continue;
        lo[t] = std::min(lo[t], s);
        hi[t] = std::max(hi[t], s);
        const Op& w = g.ops[size_t(writer[t])];
        const uint32_t ws = st.of_op[w.id];
        if (ws == s) continue;
        const bool fwd_tensor = w.phase == Phase::forward;
        if (fwd_tensor != (ws < s))
          throw InputError("system.parallel.pipeline: op '" + o.name + "' (stage " + std::to_string(s) + ") reads '" +
                           g.tensors[t].name + "' of stage " + std::to_string(ws) +
                           " against the pipeline's direction; the step cannot be cut into these stages");
        if (fwd_tensor && backward(o.phase) && !counted_recv[t]) {
          received_saved[s] += g.tensors[t].bytes;
          counted_recv[t] = true;
        }
      }
      for (uint32_t t : o.writes)
        if (writer[t] < 0) writer[t] = o.id;
    }
    for (uint32_t t = 0; t < g.tensors.size(); ++t) {
      if (writer[t] < 0 || lo[t] == UINT32_MAX) continue;
      const uint32_t ws = st.of_op[size_t(writer[t])];
      for (uint32_t s = ws; s < hi[t]; ++s) act_bytes[s] += g.tensors[t].bytes;
      for (uint32_t s = lo[t]; s < ws; ++s) grad_bytes[s] += g.tensors[t].bytes;
    }
    for (uint32_t s = 0; s + 1 < d.P; ++s) {
      StageBoundary& b = in.boundaries[s];
      b.activation_links = route(fabric, device_of(d, s, 0, 0), device_of(d, s + 1, 0, 0));
      b.gradient_links = route(fabric, device_of(d, s + 1, 0, 0), device_of(d, s, 0, 0));
      b.activation_s = transfer_seconds(fabric.link, act_bytes[s], uint32_t(b.activation_links.size()));
      b.gradient_s = transfer_seconds(fabric.link, grad_bytes[s], uint32_t(b.gradient_links.size()));
      // Every replica's and shard's pipeline, M micro-batches each way, on its own links.
      for (uint32_t r = 0; r < d.D; ++r)
        for (uint32_t t = 0; t < d.T; ++t) {
          const uint32_t a = device_of(d, s, r, t), z = device_of(d, s + 1, r, t);
          add_route(route(fabric, a, z), act_bytes[s] * d.M);
          add_route(route(fabric, z, a), grad_bytes[s] * d.M);
        }
    }
    // The schedule, then each stage's last backward and updates with its gradients'
    // all-reduce; and the same without communication (free transfers and collectives), for
    // the exposed share.
    struct Placed {
      PipelineResult pipe;
      std::vector<AllReduceTimeline> stage;
      double end_s = 0;
    };
    auto place = [&](bool comm) {
      PipelineInput pin = in;
      if (!comm) {
        for (StageBoundary& b : pin.boundaries) b.activation_s = b.gradient_s = 0;
        for (uint32_t s = 0; s < d.P; ++s)
          for (uint32_t id : stage_ops[s]) {
            const Phase ph = g.ops[id].phase;
            if (ph == Phase::forward) pin.stages[s].forward_s -= tw.before[id];
            else if (ph != Phase::update) pin.stages[s].backward_s -= tw.before[id];
          }
      }
      Placed r;
      r.pipe = simulate_pipeline(pin);
      for (uint32_t s = 0; s < d.P; ++s) {
        std::vector<TimedOp> ops;
        for (uint32_t id : stage_ops[s])
          if (g.ops[id].phase != Phase::forward) {
            ops.push_back(timed(g, grads, c, tw, id));
            if (!comm) ops.back().wait_before_s = 0;
          }
        dp_stage = s;
        r.stage.push_back(allreduce_timeline(ops, grads.bytes, bucket_bytes, ps.overlap, r.pipe.last_backward_s[s],
                                             comm ? allreduce_s : std::function<double(uint64_t)>{}));
        r.end_s = std::max(r.end_s, r.stage.back().end_s);
      }
      return r;
    };
    const Placed placed = place(true);
    const PipelineResult& pr = placed.pipe;
    step = placed.end_s;
    counting = false;
    exposed = step - place(false).end_s;
    nlohmann::json stages = nlohmann::json::array();
    uint64_t peak = 0;
    std::vector<uint64_t> stage_peak(d.P, 0);
    for (uint32_t s = 0; s < d.P; ++s) {
      const AllReduceTimeline& tl = placed.stage[s];
      dp_comm += tl.communication_s;
      compute = std::max(compute, stage_compute[s]);
      // Its saved tensors per micro-batch under the memory policy: its own ops' liveness,
      // plus what it received from earlier stages and keeps for its backward.
      OpGraph sub = subgraph(g, stage_ops[s]);
      workload::account_memory(sub);
      const uint64_t saved = sub.memory.saved_after_forward_bytes + received_saved[s];
      const uint32_t k = pr.max_in_flight[s];
      stage_peak[s] = uint64_t(k - 1) * saved + sub.memory.peak_bytes + received_saved[s];
      peak = std::max(peak, stage_peak[s]);
      nlohmann::json sj = {{"first_layer", st.first_layer[s]},
                           {"last_layer", st.last_layer[s]},
                           {"ops", stage_ops[s].size()},
                           {"forward_s", in.stages[s].forward_s},
                           {"backward_s", in.stages[s].backward_s},
                           {"busy_s", stage_compute[s]},
                           {"end_s", tl.end_s},
                           {"saved_bytes_per_microbatch", saved},
                           {"max_microbatches_held", k},
                           {"activation_bytes", uint64_t(k) * saved},
                           {"peak_bytes", stage_peak[s]},
                           {"gradient_buckets", bucket_json(tl.buckets)}};
      if (s + 1 < d.P) {
        sj["activation_bytes_sent"] = act_bytes[s];
        sj["gradient_bytes_received"] = grad_bytes[s];
      }
      stages.push_back(sj);
    }
    for (uint32_t i = 0; i < d.devices(); ++i) {
      const uint32_t s = i / (d.D * d.T);
      res.devices.push_back({device_name(i), dev_kind, uint64_t(stage_ops[s].size()), stage_compute[s],
                             stage_energy[s] + c.leakage_pj_per_s * (step - stage_compute[s]), stage_rd[s], stage_wr[s],
                             stage_peak[s], device_name(i), ""});
    }
    tp_allreduces *= d.M;
    // Stage devices of replica 0, shard 0: their ops, transfers and the chain that ended last.
    auto stage_dev = [&](uint32_t s) { return device_name(device_of(d, s, 0, 0)); };
    for (const TaskTiming& t : pr.tasks) {
      double at = t.start_s;
      for (uint32_t id : stage_ops[t.stage]) {
        const Op& o = g.ops[id];
        if ((o.phase == Phase::forward) == t.task.backward || o.phase == Phase::update) continue;
        at += tw.before[id];
        res.ops.push_back({o.name + "#" + std::to_string(t.task.microbatch), workload::to_string(o.phase),
                           workload::to_string(o.kind), stage_dev(t.stage), at, at + c.seconds[id], c.energy_pj[id],
                           c.dram_read[id], c.dram_write[id]});
        at += c.seconds[id];
      }
    }
    for (uint32_t s = 0; s < d.P; ++s) {
      const AllReduceTimeline& tl = placed.stage[s];
      size_t k = 0;
      for (uint32_t id : stage_ops[s]) {
        if (g.ops[id].phase == Phase::forward) continue;
        const Op& o = g.ops[id];
        if (o.phase == Phase::update)
          res.ops.push_back({o.name, workload::to_string(o.phase), workload::to_string(o.kind), stage_dev(s),
                             tl.op_start_s[k], tl.op_start_s[k] + c.seconds[id], c.energy_pj[id], c.dram_read[id],
                             c.dram_write[id]});
        ++k;
      }
    }
    for (const TransferTiming& t : pr.transfers) {
      const uint32_t a = t.gradient ? t.boundary + 1 : t.boundary, z = t.gradient ? t.boundary : t.boundary + 1;
      const uint64_t bytes = t.gradient ? grad_bytes[t.boundary] : act_bytes[t.boundary];
      const uint32_t hops = uint32_t(route(fabric, device_of(d, a, 0, 0), device_of(d, z, 0, 0)).size());
      res.transfers.push_back(
          {std::string(t.gradient ? "gradients" : "activations") + " of micro-batch " + std::to_string(t.microbatch),
           stage_dev(a), stage_dev(z), "stage " + std::to_string(a) + (t.gradient ? " backward" : " forward"),
           "stage " + std::to_string(z) + (t.gradient ? " backward" : " forward"), bytes, hops, t.start_s, t.end_s,
           double(bytes) * hops * fabric.link.energy_pj_per_byte});
    }
    // The critical path: the stage that ends last, back through its tasks and transfers.
    uint32_t last = 0;
    for (uint32_t s = 0; s < d.P; ++s)
      if (placed.stage[s].end_s > placed.stage[last].end_s) last = s;
    std::vector<PathStep> path;
    int64_t task = -1;
    for (size_t i = 0; i < pr.tasks.size(); ++i)
      if (pr.tasks[i].stage == last && pr.tasks[i].task.backward &&
          (task < 0 || pr.tasks[i].end_s >= pr.tasks[size_t(task)].end_s))
        task = int64_t(i);
    // The last stage's tail: its last backward's ops, its updates and all-reduces.
    const AllReduceTimeline& tail = placed.stage[last];
    std::vector<uint32_t> tail_ops;
    for (uint32_t id : stage_ops[last])
      if (g.ops[id].phase != Phase::forward) tail_ops.push_back(id);
    for (int64_t e : tail.critical) {
      if (e >= 0) {
        const uint32_t id = tail_ops[size_t(e)];
        path.push_back({"op", g.ops[id].name, stage_dev(last), tail.op_start_s[size_t(e)],
                        tail.op_start_s[size_t(e)] + c.seconds[id]});
      } else {
        const Bucket& b = tail.buckets[size_t(-1 - e)];
        path.push_back({"collective", "all-reduce of bucket " + std::to_string(-1 - e) + " (" + mb(b.bytes) + ")",
                        "data-parallel group of " + stage_dev(last), b.start_s, b.end_s});
      }
    }
    if (task >= 0) task = pr.tasks[size_t(task)].after;  // the last backward's ops are in the tail
    while (task >= 0) {
      const TaskTiming& t = pr.tasks[size_t(task)];
      path.push_back({"op",
                      "stage " + std::to_string(t.stage) + (t.task.backward ? " backward" : " forward") +
                          " of micro-batch " + std::to_string(t.task.microbatch),
                      stage_dev(t.stage), t.start_s, t.end_s});
      if (t.transfer >= 0) {
        const TransferRecord& x = res.transfers[size_t(t.transfer)];
        path.push_back({"transfer", x.tensor, x.src + "->" + x.dst, x.start_s, x.end_s});
      }
      task = t.after;
    }
    // Transfers belong before the task that waited for them: walk was latest first.
    std::reverse(path.begin(), path.end());
    res.critical_path = path;
    par["bubble_fraction"] = pr.bubble_fraction;
    par["pipeline_transfer_s"] = pr.transfer_s;
    par["stages"] = stages;
    par["device_peak_bytes"] = peak;
  }
  // The collectives of every group: data-parallel ones over each stage's and shard's D
  // replicas, tensor-parallel ones over each replica's and stage's T shards (M micro-batches).
  for (const auto& [key, times] : dp_calls)
    for (uint32_t t = 0; t < d.T; ++t) {
      std::vector<uint32_t> m;
      for (uint32_t r = 0; r < d.D; ++r) m.push_back(device_of(d, key.first, r, t));
      add_collective(m, key.second, times);
    }
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> tp_calls;  // (stage, bytes) → all-reduces
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (tw.bytes[i]) tp_calls[{op_stage[i], tw.bytes[i]}] += d.M;
  for (const auto& [key, times] : tp_calls)
    for (uint32_t r = 0; r < d.D; ++r) {
      std::vector<uint32_t> m;
      for (uint32_t t = 0; t < d.T; ++t) m.push_back(device_of(d, key.first, r, t));
      add_collective(m, key.second, times);
    }
  uint64_t link_bytes = 0;
  double link_energy = 0;
  for (size_t l = 0; l < by_link.size(); ++l) {
    if (!by_link[l]) continue;
    const double e = double(by_link[l]) * fabric.link.energy_pj_per_byte;
    res.links.push_back(
        {link_name(fabric, uint32_t(l)), by_link[l], double(by_link[l]) / fabric.link.bandwidth_bytes_per_s, e});
    link_bytes += by_link[l];
    link_energy += e;
  }
  if (d.D > 1) {
    gradient["allreduce_s"] = dp_comm;
    par["gradient"] = gradient;
  }
  const double tp_comm = tw.seconds * (d.P > 1 ? double(d.M) : 1.0);
  const double pp_comm = d.P > 1 ? par["pipeline_transfer_s"].get<double>() : 0.0;
  if (d.T > 1)
    par["tensor_parallel"] = {{"blocks", sharding.blocks},
                              {"allreduces", tp_allreduces},
                              {"allreduce_s", tp_comm},
                              {"replicated_layers", sharding.replicated}};
  par["step_s"] = step;
  par["compute_s"] = compute;
  par["communication_s"] = dp_comm + tp_comm + pp_comm;
  par["exposed_communication_s"] = exposed;
  par["communication_share"] = step > 0 ? (dp_comm + tp_comm + pp_comm) / step : 0;
  par["exposed_share"] = step > 0 ? exposed / step : 0;
  par["link_energy_pj"] = link_energy;
  par["link_bytes"] = link_bytes;
  res.step_s = step;
  res.extra["parallel"] = par;
  res.device_reports.emplace_back(dev.name, dr.report);
  return res;
}

}  // namespace bpsim::system
