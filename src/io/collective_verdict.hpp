// One verdict on every rank. A check that runs on one rank only (file-system look-ups on rank
// 0) or that can fail on some ranks only must not throw there alone: the others would wait in
// the next collective call forever. These helpers turn such checks into collective ones.
#pragma once

#include <mpi.h>

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace latdiff {

// Collective. Throws E(message) on every rank if `local_error` is set on any rank, with the
// message of the lowest such rank; returns otherwise.
template <class E>
void throw_if_any(MPI_Comm comm, const std::optional<std::string>& local_error);

// Collective. Every rank runs f, which must not call collectives itself; if it throws on any
// rank, every rank throws E with the message of the lowest failing rank.
template <class E, class F>
void agree(MPI_Comm comm, F&& f) {
  std::optional<std::string> error;
  try {
    f();
  } catch (const std::exception& e) {
    error = e.what();
  }
  throw_if_any<E>(comm, error);
}

// Collective. Rank 0 runs f (no collectives inside) and every rank returns its result, which
// must be trivially copyable, or throws E with f's message when it threw.
template <class E, class F>
auto decided_by_root(MPI_Comm comm, F&& f) {
  using R = std::invoke_result_t<F>;
  static_assert(std::is_trivially_copyable_v<R>, "decided_by_root: result is broadcast as bytes");
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  R result{};
  std::optional<std::string> error;
  if (rank == 0) {
    try {
      result = f();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  throw_if_any<E>(comm, error);
  MPI_Bcast(&result, sizeof(R), MPI_BYTE, 0, comm);
  return result;
}

namespace detail {
// Collective: empty unless some rank has an error; then the lowest such rank's message.
std::optional<std::string> first_error(MPI_Comm comm, const std::optional<std::string>& local);
}  // namespace detail

template <class E>
void throw_if_any(MPI_Comm comm, const std::optional<std::string>& local_error) {
  if (auto message = detail::first_error(comm, local_error)) throw E(*message);
}

}  // namespace latdiff
