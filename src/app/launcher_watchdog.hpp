// Ranks must not outlive their launcher. Open MPI starts each rank in its own process group,
// so a kill -9 of mpirun (or of its process group) leaves the ranks running, still appending
// and checkpointing beside whatever runs next. A rank started by a launcher (mpirun, orted,
// srun's step daemon) therefore watches its parent process and ends at once, with _exit and
// without writing anything more, when the parent is gone: the outcome is that of a kill -9
// of every process, from which a rerun resumes.
#pragma once

namespace latdiff {

// Starts the watchdog thread when the process was started by an MPI launcher (not as a
// singleton); it makes no MPI calls. Call once, first thing in main.
void stop_when_launcher_dies();

}  // namespace latdiff
