#pragma once
/// The `bpsim` subcommands; each returns the process exit code.
namespace bpsim::cli {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;

int main(int argc, char* argv[]);
int cmd_run(int argc, char* argv[]);
int cmd_validate(int argc, char* argv[]);
int cmd_list(int argc, char* argv[]);
int cmd_sweep(int argc, char* argv[]);
int cmd_trace(int argc, char* argv[]);
int cmd_compare(int argc, char* argv[]);

}  // namespace bpsim::cli
