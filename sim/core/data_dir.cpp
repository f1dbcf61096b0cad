#include "sim/core/data_dir.h"

#include <filesystem>
#include <system_error>

#include "sim/core/build_info.h"

namespace fs = std::filesystem;

namespace bpsim {

const std::string& data_dir() {
  static const std::string dir = [] {
    std::error_code ec;
    // The executable's own path, not argv[0]: it holds wherever the binary was started from.
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      const fs::path installed = (exe.parent_path() / ".." / "share" / "bpsim").lexically_normal();
      if (fs::is_directory(installed / "configs", ec)) return installed.string();
    }
    return std::string(BPSIM_SOURCE_DIR);
  }();
  return dir;
}

namespace config {

std::string resolve_config_path(const Node& value_with_path) {
  std::string here = resolve_path(value_with_path);
  const fs::path written(value_with_path.scalar);
  std::error_code ec;
  if (written.empty() || written.is_absolute() || fs::exists(here, ec)) return here;
  const fs::path shipped = (fs::path(data_dir()) / "configs" / written).lexically_normal();
  return fs::is_regular_file(shipped, ec) ? shipped.string() : here;
}

}  // namespace config

}  // namespace bpsim
