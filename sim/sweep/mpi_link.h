#pragma once
/// The sweep's link to MPI: a table of C functions that the separately built module
/// libbpsim_mpi.so (sim/sweep/mpi_module.cpp) fills in. bpsim loads the module only when a
/// sweep runs under mpirun, so no other command links or loads Open MPI (its libraries cost
/// every start a few milliseconds). A C table, so that the module and bpsim share no C++ ABI.
#include <cstddef>

extern "C" {

/// The table's version: bpsim refuses a module that fills in another one.
#define BPSIM_MPI_ABI 1
/// The module's entry point, by name (dlsym).
#define BPSIM_MPI_ENTRY "bpsim_mpi_ops"
/// The module's file name, looked up beside the bpsim executable.
#define BPSIM_MPI_MODULE "libbpsim_mpi.so"

/// Each function returns 0 on success and an MPI error code otherwise, except where said.
struct BpsimMpiOps {
  int abi;  ///< BPSIM_MPI_ABI
  /// MPI_Init, then this process's rank and the number of ranks of MPI_COMM_WORLD.
  int (*init)(int* argc, char*** argv, int* rank, int* size);
  /// Sends `bytes` bytes to rank `to` (blocking until the buffer can be reused).
  int (*send)(int to, int tag, const char* data, size_t bytes);
  /// A message with `tag` from rank `from` (-1: any rank): 1 when one has arrived (its source
  /// and size filled in), 0 when none has and `block` is 0 (with `block` it waits for one),
  /// -1 on an MPI error.
  int (*probe)(int from, int tag, int block, int* source, size_t* bytes);
  /// Receives the message probe announced (`bytes` long) from rank `from`.
  int (*recv)(int from, int tag, char* data, size_t bytes);
  /// MPI_Abort of every rank with `code` as mpirun's exit status; does not return.
  void (*abort)(int code);
  /// MPI_Finalize.
  int (*finalize)();
};

/// Returns the module's table (static storage).
typedef const BpsimMpiOps* (*BpsimMpiEntry)();
}
