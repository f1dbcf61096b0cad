#include "sim/core/progress.h"

#include <unistd.h>

#include <cstdlib>

namespace bpsim {

namespace {

constexpr double kDefaultDelayS = 2.0;
constexpr double kRedrawS = 0.1;

double delay_from_env() {
  const char* v = std::getenv("BPSIM_PROGRESS_AFTER_S");
  if (!v || !*v) return kDefaultDelayS;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return (end && *end == '\0' && d >= 0) ? d : kDefaultDelayS;  // an unreadable value: the default
}

}  // namespace

ProgressLine::ProgressLine(bool enabled, double delay_s, std::FILE* out)
    : m_out(out ? out : stderr),
      m_active(enabled && (out != nullptr || ::isatty(::fileno(stderr)) != 0)),
      m_delay_s(delay_s >= 0 ? delay_s : delay_from_env()),
      m_start(Clock::now()),
      m_last(m_start) {}

ProgressLine::~ProgressLine() { clear(); }

bool ProgressLine::due() {
  if (!m_active) return false;
  const Clock::time_point now = Clock::now();
  if (std::chrono::duration<double>(now - m_start).count() < m_delay_s) return false;
  if (m_width != 0 && std::chrono::duration<double>(now - m_last).count() < kRedrawS) return false;
  m_last = now;
  return true;
}

void ProgressLine::show(const std::string& text) {
  if (!m_active) return;
  // Spaces cover what is left of a longer previous line.
  const std::string pad(text.size() < m_width ? m_width - text.size() : 0, ' ');
  std::fprintf(m_out, "\r%s%s", text.c_str(), pad.c_str());
  std::fflush(m_out);
  m_width = text.size() + pad.size();  // what is on the screen now, padding included
}

void ProgressLine::message(const std::string& text) {
  clear();
  std::fputs(text.c_str(), m_out);
  std::fflush(m_out);
}

void ProgressLine::clear() {
  if (!m_active || m_width == 0) return;
  std::fprintf(m_out, "\r%s\r", std::string(m_width, ' ').c_str());
  std::fflush(m_out);
  m_width = 0;
}

double ProgressLine::elapsed_s() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }

}  // namespace bpsim
