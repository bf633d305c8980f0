#include "io/deck_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/deck.hpp"

namespace latdiff {

namespace {

[[noreturn]] void refuse_with_errno(const std::string& path, const char* action) {
  throw DeckError(path + ": cannot " + action + " the deck (" + std::strerror(errno) + ")");
}

[[noreturn]] void refuse_size(const std::string& path) {
  throw DeckError(path + ": larger than 1 MiB (" + std::to_string(kMaxDeckBytes) +
                  " bytes), the most a deck may have");
}

// Refuses what is not a regular file of at most kMaxDeckBytes.
void check_file(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    throw DeckError(path + ": is " + kind + "; the deck must be a regular file");
  }
  if (static_cast<unsigned long long>(st.st_size) > kMaxDeckBytes) refuse_size(path);
}

// The bytes of the deck file, or throws DeckError. Local.
std::string read_local(const std::string& path) {
  // stat before open: opening a FIFO waits for a writer, opening a device may have effects.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) refuse_with_errno(path, "read");
  check_file(path, st);
  // O_NONBLOCK and a second check: the path may have been replaced since the stat.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) refuse_with_errno(path, "open");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) refuse_with_errno(path, "read");
  check_file(path, st);
  // One byte more than allowed, to notice a file that has grown since the fstat.
  std::string text(kMaxDeckBytes + 1, '\0');
  std::size_t size = 0;
  while (size < text.size()) {
    const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse_with_errno(path, "read");
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxDeckBytes) refuse_size(path);
  text.resize(size);
  return text;
}

}  // namespace

std::string read_deck_file(const std::string& path, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // Rank 0's verdict {refused, size}, then `size` bytes: the deck, or the refusal's message.
  long long verdict[2] = {0, 0};
  std::string text;
  if (rank == 0) {
    try {
      text = read_local(path);
    } catch (const DeckError& e) {
      text = e.what();
      verdict[0] = 1;
    }
    verdict[1] = static_cast<long long>(text.size());
  }
  MPI_Bcast(verdict, 2, MPI_LONG_LONG, 0, comm);
  text.resize(static_cast<std::size_t>(verdict[1]));
  MPI_Bcast(text.data(), static_cast<int>(verdict[1]), MPI_CHAR, 0, comm);
  if (verdict[0] != 0) throw DeckError(text);
  return text;
}

}  // namespace latdiff
