#pragma once
/// Pipeline parallelism's schedules as plain arithmetic over per-stage durations
/// (docs/system.md "Parallelism"): P stages, M micro-batches, each stage running its forward
/// and backward tasks in the order its schedule gives, a task starting when its stage is free
/// and its input has arrived over the fabric. No SystemC, no graph: the system layer fills the
/// durations from each stage's simulated ops.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/system/system_spec.h"

namespace bpsim::system {

/// The schedules (system_spec.h's PipelineSchedule, `parallel.schedule`): GPipe (Huang et al.
/// 2019): every micro-batch's forward, then every backward, the newest micro-batch's first.
/// 1F1B (PipeDream-flush, Narayanan et al. 2021): stage s runs min(P−s−1, M) warm-up forwards,
/// then alternates one forward and one backward, then drains the remaining backwards;
/// backwards in micro-batch order.
using Schedule = PipelineSchedule;

/// One task of a stage: the forward or the backward of micro-batch `microbatch`.
struct StageTask {
  bool backward = false;
  uint32_t microbatch = 0;
};

/// The order in which stage `stage` of `stages` runs its 2·M tasks under `schedule`.
std::vector<StageTask> stage_order(Schedule schedule, uint32_t stages, uint32_t stage, uint32_t microbatches);

/// What one stage costs per micro-batch, in seconds.
struct StageCost {
  double forward_s = 0;   ///< the stage's forward ops for one micro-batch
  double backward_s = 0;  ///< its backward ops (data, weight, recompute) for one micro-batch
};

/// The transfers between stage s and s+1: the activation forward, its gradient backward.
/// `*_links`: the fabric's directed links each crosses (a link carries one transfer at a time).
struct StageBoundary {
  double activation_s = 0, gradient_s = 0;
  std::vector<uint32_t> activation_links, gradient_links;
};

struct PipelineInput {
  Schedule schedule = Schedule::gpipe;
  uint32_t microbatches = 1;
  std::vector<StageCost> stages;          ///< P ≥ 1
  std::vector<StageBoundary> boundaries;  ///< P − 1
};

/// One task as it ran.
struct TaskTiming {
  uint32_t stage = 0;
  StageTask task;
  double start_s = 0, end_s = 0;
  /// What it waited for last: the task before it on its stage, or the task whose output it
  /// takes (through transfer `transfer` when ≥ 0); −1: nothing (it started at 0).
  int64_t after = -1, transfer = -1;
};

/// One stage-to-stage transfer as it ran: across cut `boundary` (stage b to b+1, or back).
struct TransferTiming {
  uint32_t boundary = 0, microbatch = 0;
  bool gradient = false;
  double start_s = 0, end_s = 0;
};

struct PipelineResult {
  double end_s = 0;                     ///< the last backward's end (before the optimizer)
  std::vector<double> stage_busy_s;     ///< per stage: M·(forward + backward)
  std::vector<double> stage_end_s;      ///< per stage: its last backward's end
  std::vector<double> last_backward_s;  ///< per stage: its last backward's start
  /// Per stage: the most micro-batches whose forward has run and whose backward has not
  /// (their saved tensors are held), over the schedule.
  std::vector<uint32_t> max_in_flight;
  /// 1 − Σ_s busy_s / (P · end_s): the share of the stages' time idle before the flush. For P
  /// equal stages and free transfers, (P−1)/(M+P−1).
  double bubble_fraction = 0;
  double transfer_s = 0;          ///< every transfer's duration, summed
  std::vector<TaskTiming> tasks;  ///< in the order they were placed
  std::vector<TransferTiming> transfers;
};

/// Places every stage's tasks in its schedule's order; deterministic (ties: the lower stage).
/// Throws std::invalid_argument on an empty pipeline, M = 0 or a boundary count that is not P−1.
PipelineResult simulate_pipeline(const PipelineInput& in);

}  // namespace bpsim::system
