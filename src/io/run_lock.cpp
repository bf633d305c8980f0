#include "io/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <utility>

#include "io/collective_verdict.hpp"

namespace latdiff {

namespace {

// Whether the open file fd is the file now at path.
bool same_file(int fd, const std::string& path) {
  struct stat held {
  }, now{};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
         held.st_ino == now.st_ino;
}

std::string holder_text() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  char when[32] = "";
  const std::time_t t = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return "host " + std::string(host) + ", pid " + std::to_string(getpid()) + ", since " + when;
}

// What the lock file says about its holder (empty if unreadable).
std::string read_holder(int fd) {
  char buf[512];
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

// Locks `lock` for this process: returns the descriptor, or throws with the reason.
int take(const RunLock::Target& t, const std::string& lock) {
  const std::string who = t.key + ": '" + t.path + "'";
  // The previous holder removes the file while holding the lock, so a lock taken on a file
  // that is no longer the one at `lock` is stale: retry on the new one.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw LockError(t.key + ": cannot create lock file '" + lock + "': " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string holder = read_holder(fd);
      ::close(fd);
      if (err == EWOULDBLOCK)
        throw LockHeld(who + " is in use by another latdiff run (" +
                       (holder.empty() ? std::string("holder unknown") : holder) +
                       "); wait for it to end or stop it (lock file '" + lock + "')");
      throw LockError(who + ": cannot lock '" + lock + "': " + std::strerror(err));
    }
    if (same_file(fd, lock)) {
      const std::string text = holder_text() + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
        const int err = errno;
        ::close(fd);
        throw LockError(who + ": cannot write lock file '" + lock + "': " + std::strerror(err));
      }
      return fd;
    }
    ::close(fd);
  }
  throw LockError(who + ": cannot lock '" + lock + "': it keeps being replaced");
}

}  // namespace

std::string RunLock::lock_path(const std::string& path) {
  // Through symbolic links and however the path is spelled (./x.h5, an absolute path), one
  // file has one lock file. A name the file system refuses is left as it is: creating its lock
  // file fails with the reason.
  std::error_code ec;
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(path, ec);
  return (ec ? std::filesystem::path(path) : resolved).string() + ".lock";
}

RunLock::RunLock(const std::vector<Target>& targets, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::optional<std::string> error;
  int held_elsewhere = 0;
  if (rank == 0) {
    try {
      for (const Target& t : targets) {
        const std::string lock = lock_path(t.path);
        held_.push_back({take(t, lock), lock});
      }
    } catch (const std::exception& e) {
      error = e.what();
      held_elsewhere = dynamic_cast<const LockHeld*>(&e) ? 1 : 0;
      release();
    }
  }
  MPI_Bcast(&held_elsewhere, 1, MPI_INT, 0, comm);
  if (held_elsewhere)
    throw_if_any<LockHeld>(comm, error);
  else
    throw_if_any<LockError>(comm, error);
}

RunLock::RunLock(RunLock&& other) noexcept : held_(std::exchange(other.held_, {})) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    release();
    held_ = std::exchange(other.held_, {});
  }
  return *this;
}

RunLock::~RunLock() {
  release();
}

void RunLock::check_still_held(MPI_Comm comm) const {
  std::optional<std::string> error;
  for (const Held& h : held_)
    if (!error && !same_file(h.fd, h.path))
      error = "lock file '" + h.path +
              "' was removed or replaced while this run held it; "
              "stopping, since another run may be writing the same files";
  throw_if_any<LockError>(comm, error);
}

void RunLock::release() noexcept {
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
    // Only our own lock file: if someone removed it, another run may have made a new one.
    struct stat held {
    }, now{};
    if (::fstat(it->fd, &held) == 0 && ::stat(it->path.c_str(), &now) == 0 &&
        held.st_dev == now.st_dev && held.st_ino == now.st_ino)
      ::unlink(it->path.c_str());
    ::close(it->fd);
  }
  held_.clear();
}

}  // namespace latdiff
