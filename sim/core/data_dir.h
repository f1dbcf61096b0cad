#pragma once
/// Where bpsim finds the data it ships (configs/ with the presets and examples, traces/ with
/// the samples, scripts/ with the plot scripts): next to an installed executable, else in the
/// checkout the build tree was configured from (README, "Installing").
#include <string>

#include "sim/core/config_node.h"

namespace bpsim {

/// `<folder of the executable>/../share/bpsim` when it holds `configs/` (a bpsim installed by
/// `cmake --install`), else the source tree (build_info.h). Found once per process.
const std::string& data_dir();

namespace config {

/// resolve_path (config_node.h) for a config file named in a config (`include:`, `spec:`); a
/// relative path that names nothing there but names a file under the shipped configs
/// (data_dir()/configs) is taken from them, so a config anywhere can write `include:
/// [memory/ddr4_2400.yaml]` or `spec: workloads/mlp.yaml`. Otherwise as resolve_path, so a
/// file missing from both places is reported where it is written.
std::string resolve_config_path(const Node& value_with_path);

}  // namespace config

}  // namespace bpsim
