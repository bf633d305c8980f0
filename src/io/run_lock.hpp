// One writer per output file and checkpoint. A run holds an exclusive lock on "<path>.lock"
// (the canonical path, symbolic links resolved) for every file it writes, from before its first
// check of those files until it exits, so a second run on the same files (another deck, another
// seed, a rerun started while the ranks of a killed mpirun still live) is refused with the
// holder's host and pid. The locks are flock(2) locks taken by rank 0: the kernel drops them
// when the holding process dies, however it dies, so a lock never outlives its run. The lock
// file records the holder (host, pid, start time) for the message; a clean exit removes it.
// Not covered: a second name of the file by a hard link, whose lock file differs (locking the
// file itself would deadlock with the fcntl locks of MPI-IO), and lock files removed by hand,
// which the holder notices at its next checkpoint (check_still_held).
#pragma once

#include <mpi.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace latdiff {

// A lock is held by another process, or the lock file cannot be created (missing directory,
// no permission, name too long): one line naming the deck key, the file and the holder.
struct LockError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The lock is held by another live process.
struct LockHeld : LockError {
  using LockError::LockError;
};

class RunLock {
 public:
  struct Target {
    std::string key;   // deck key that names the file, e.g. "output.file"
    std::string path;  // the file the run will write
  };

  RunLock() = default;
  // Collective over comm. Rank 0 locks every target or none; throws LockHeld (held by another
  // process) or LockError (cannot be locked) on every rank when one cannot be locked.
  RunLock(const std::vector<Target>& targets, MPI_Comm comm);
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();  // removes the lock files and releases the locks (not collective)

  // Collective over comm. Throws LockError on every rank when a lock file is no longer the one
  // this run locked (someone removed or replaced it, so another run may be writing too).
  void check_still_held(MPI_Comm comm) const;

  // The lock file of a written file: "<canonical path>.lock", symbolic links resolved.
  static std::string lock_path(const std::string& path);

 private:
  struct Held {
    int fd;
    std::string path;
  };
  void release() noexcept;
  std::vector<Held> held_;  // rank 0 only: the lock files
};

}  // namespace latdiff
