// The console formatter (sim/core/units.h) and the progress line (sim/core/progress.h).
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "sim/core/progress.h"
#include "sim/core/units.h"

using namespace bpsim;

TEST_CASE("units: energies in SI sub-units, never a bare 0.000465 J", "[core][units]") {
  CHECK(units::energy_pj(4.65e8) == "465 \u00b5J");  // 4.65e8 pJ = 4.65e-4 J
  CHECK(units::energy_pj(1.46e9) == "1.46 mJ");
  CHECK(units::energy_pj(1.33e12) == "1.33 J");
  CHECK(units::energy_pj(12.3e3) == "12.3 nJ");
  CHECK(units::energy_pj(0.5) == "0.5 pJ");  // pJ is the smallest prefix
  CHECK(units::energy_pj(0) == "0 J");
  // Rounding that reaches 1000 moves up a prefix: 999.96 µJ at 3 digits is 1 mJ.
  CHECK(units::energy_pj(999.96e6) == "1 mJ");
}

TEST_CASE("units: times, bytes, bandwidth, counts, clocks, shares", "[core][units]") {
  CHECK(units::seconds(2.859e-6) == "2.86 \u00b5s");
  CHECK(units::seconds(0.4749) == "475 ms");
  CHECK(units::seconds(12.34) == "12.3 s");
  CHECK(units::seconds(4000) == "4000 s");  // never ks
  CHECK(units::bytes(512) == "512 B");
  CHECK(units::bytes(25600) == "25.6 kB");  // decimal: 1 kB = 1000 B
  CHECK(units::bytes(4.52e9) == "4.52 GB");
  CHECK(units::bandwidth(19.2e9) == "19.2 GB/s");
  CHECK(units::count(12) == "12");
  CHECK(units::count(6.66e6) == "6.66 M");
  CHECK(units::clock_ghz(1.2004801920768309) == "1.2 GHz");  // DDR4-2400's 1/0.833 ns
  CHECK(units::clock_ghz(0.8) == "800 MHz");
  CHECK(units::clock_ghz(1) == "1 GHz");
  CHECK(units::percent(0.7214) == "72.1%");
  CHECK(units::number(0.030340776718528237) == "0.0303");
  CHECK(units::number(3220.5056529522767) == "3221");
  CHECK(units::number(1.92e6) == "1.92 M");
}

TEST_CASE("units: exact values read back exactly", "[core][units]") {
  CHECK(units::exact(1048576) == "1048576");  // was 1.04858e+06 in bpsim list
  CHECK(units::exact(1e10) == "10000000000");
  CHECK(units::exact(0.1) == "0.1");  // was 0.10000000000000001
  CHECK(units::exact(1e-15) == "1e-15");
  CHECK(std::stod(units::exact(1.2004801920768309)) == 1.2004801920768309);
}

TEST_CASE("progress line: drawn past its delay, padded over a longer one, cleared", "[core][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    ProgressLine p(true, 0.0, f);  // a given stream always draws; no delay
    REQUIRE(p.active());
    REQUIRE(p.due());
    p.show("simulating: 10 ops");
    CHECK_FALSE(p.due());  // 0.1 s between redraws
    p.show("ok");          // shorter: spaces cover the rest
  }                        // the destructor clears the line
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += char(c);
  std::fclose(f);
  CHECK(text == "\rsimulating: 10 ops\rok                \r                  \r");

  ProgressLine quiet(false, 0.0, stderr);  // --quiet: never drawn
  CHECK_FALSE(quiet.active());
  CHECK_FALSE(quiet.due());
  std::FILE* g = std::tmpfile();
  REQUIRE(g);
  {
    ProgressLine later(true, 3600.0, g);
    CHECK(later.active());
    CHECK_FALSE(later.due());  // a short run never reaches the delay, and draws nothing
  }
  CHECK(std::ftell(g) == 0);
  std::fclose(g);
}
