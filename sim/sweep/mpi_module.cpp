// libbpsim_mpi.so: the MPI calls of a distributed sweep (sim/sweep/mpi_link.h), built apart
// from bpsim and loaded by it only under mpirun. The C API only: no C++ bindings, no Boost.MPI.
#include <mpi.h>

#include <climits>

#include "sim/sweep/mpi_link.h"

namespace {

int init(int* argc, char*** argv, int* rank, int* size) {
  if (const int rc = MPI_Init(argc, argv); rc != MPI_SUCCESS) return rc;
  if (const int rc = MPI_Comm_rank(MPI_COMM_WORLD, rank); rc != MPI_SUCCESS) return rc;
  return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int send(int to, int tag, const char* data, size_t bytes) {
  if (bytes > INT_MAX) return MPI_ERR_COUNT;
  return MPI_Send(data, static_cast<int>(bytes), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

int probe(int from, int tag, int block, int* source, size_t* bytes) {
  MPI_Status st;
  const int rank = from < 0 ? MPI_ANY_SOURCE : from;
  if (block) {
    if (MPI_Probe(rank, tag, MPI_COMM_WORLD, &st) != MPI_SUCCESS) return -1;
  } else {
    int flag = 0;
    if (MPI_Iprobe(rank, tag, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS) return -1;
    if (!flag) return 0;
  }
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  *source = st.MPI_SOURCE;
  *bytes = static_cast<size_t>(count);
  return 1;
}

int recv(int from, int tag, char* data, size_t bytes) {
  if (bytes > INT_MAX) return MPI_ERR_COUNT;
  return MPI_Recv(data, static_cast<int>(bytes), MPI_CHAR, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

void abort_all(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int finalize() { return MPI_Finalize(); }

}  // namespace

extern "C" __attribute__((visibility("default"))) const BpsimMpiOps* bpsim_mpi_ops() {
  static const BpsimMpiOps ops{BPSIM_MPI_ABI, init, send, probe, recv, abort_all, finalize};
  return &ops;
}
