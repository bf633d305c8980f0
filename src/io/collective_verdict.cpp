#include "io/collective_verdict.hpp"

namespace latdiff::detail {

std::optional<std::string> first_error(MPI_Comm comm, const std::optional<std::string>& local) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int first = local ? rank : size;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return std::nullopt;
  std::string message = rank == first ? *local : std::string();
  unsigned long long n = message.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, first, comm);
  message.resize(n);
  MPI_Bcast(message.data(), static_cast<int>(n), MPI_CHAR, first, comm);
  return message;
}

}  // namespace latdiff::detail
