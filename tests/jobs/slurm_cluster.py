"""A private single-node SLURM cluster in a temporary directory, for tests.

The job-script tests need a real scheduler (arrays, signals, requeue) but must
not depend on, or disturb, a system-wide Slurm/MUNGE setup.  Everything here
(munge key and socket, slurm.conf, state, spool, logs, pid files) lives under
one base directory, and the daemons are reached only through ``SLURM_CONF``.

Usage::

    with SlurmCluster(tmp_path) as cluster:
        out = subprocess.run(["sbatch", "--parsable", script],
                             env=cluster.env(), capture_output=True, text=True)
        job_id = int(out.stdout.split(";")[0])
        print(cluster.job_states(job_id))
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["SlurmCluster", "SlurmError", "slurm_available", "expand_ranges"]

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "slurmstepd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "sinfo")
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MARKER = "LATDIFF_SLURM_CLUSTER"  # env var that tags our daemons (and stepds)


class SlurmError(RuntimeError):
    """Raised when the private cluster cannot be started or queried."""


def _which(name):
    """Find a binary also in sbin, which is often missing from PATH."""
    return shutil.which(name) or shutil.which(name, path=SBIN_PATH)


def slurm_available():
    """Return (ok, reason): tests skip, rather than fail, where they cannot run."""
    if os.name != "posix" or not Path("/proc/self").exists():
        return False, "needs Linux /proc"
    if os.geteuid() != 0:
        return False, "must run as root (slurmd and munged need it)"
    missing = [b for b in DAEMONS + CLIENTS if _which(b) is None]
    if missing:
        return False, "missing binaries: " + ", ".join(missing)
    return True, ""


def _free_ports(count):
    """Ask the kernel for free TCP ports so that parallel test runs do not clash."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def expand_ranges(text):
    """Expand Slurm index lists like '0,2-5:2%4' (pending array records) to ints."""
    text = text.split("%", 1)[0]
    out = []
    for part in filter(None, text.split(",")):
        rng, _, step = part.partition(":")
        lo, _, hi = rng.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1, int(step or 1)))
    return out


def _tail(path, lines=25):
    """Last lines of a log file, for error messages that explain a failed start."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError as exc:
        return "<%s>" % exc
    return "\n".join(text[-lines:])


def _pid_alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class SlurmCluster:
    """munged + slurmctld + slurmd for node 'localhost', all under base_dir."""

    def __init__(self, base_dir, cpus=None, oversubscribe=4, timeout=30.0, cred_expire=5,
                 conf=None):
        """cpus*oversubscribe jobs fit at once; cred_expire (>= 5, Slurm's minimum) also
        delays a requeued job's restart; conf: extra/overriding slurm.conf keys."""
        if cred_expire < 5:
            raise ValueError("Slurm rejects AuthInfo cred_expire < 5")
        self.base = Path(base_dir).resolve() / "slurm"
        self.cpus = cpus or os.cpu_count() or 1
        self.oversubscribe = oversubscribe
        self.timeout = timeout
        self.cred_expire = cred_expire
        self.extra_conf = dict(conf or {})
        self.conf_path = self.base / "etc" / "slurm.conf"
        self.munge_socket = self.base / "munge" / "run" / "munge.socket.2"
        self.log_dir = self.base / "log"  # <daemon>.out: stdout/stderr of each daemon
        self.logs = {n: self.log_dir / (n + ".log") for n in ("slurmctld", "slurmd")}
        self.logs["munged"] = self.log_dir / "munged.out"  # munged -F logs to stderr
        self.procs = {}  # daemon name -> Popen
        self.ports = ()

    # -- lifecycle ---------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Start the daemons and wait until the node is idle; raise SlurmError otherwise."""
        ok, reason = slurm_available()
        if not ok:
            raise SlurmError(reason)
        try:
            self._make_dirs()
            self._start_munged()
            self._write_conf()
            self._spawn("slurmctld", [_which("slurmctld"), "-D", "-c", "-f", str(self.conf_path)])
            self._spawn("slurmd", [_which("slurmd"), "-D", "-N", "localhost",
                                   "-f", str(self.conf_path)])
            self._wait(self._node_idle, "node localhost to become idle")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Kill daemons by recorded PID, then job steps (TERM, then KILL); never hangs.

        No scancel first: slurmd then lingers up to KillWait; TERM/KILL is quicker."""
        order = ("slurmd", "slurmctld")
        self._terminate([self.procs[n] for n in order if n in self.procs], grace=5.0)
        self._kill_leftovers()
        self._terminate([self.procs[n] for n in ("munged",) if n in self.procs], grace=3.0)
        self.procs.clear()

    # -- clients -----------------------------------------------------------------

    def env(self, base=None):
        """Environment for sbatch/squeue/scontrol/scancel that targets this cluster."""
        env = {k: v for k, v in (os.environ if base is None else base).items()
               if not k.startswith("SLURM_")}  # e.g. when run inside another job
        env["SLURM_CONF"] = str(self.conf_path)
        env["PATH"] = env.get("PATH", "") + ":" + SBIN_PATH
        return env

    def sbatch(self, *args):
        """Submit with sbatch --parsable and return the (array) job id."""
        out = self._run(["sbatch", "--parsable"] + [str(a) for a in args])
        return int(out.strip().split(";")[0])

    def job_records(self, job_id):
        """Parsed `scontrol show job -o` records ({} keys) for a job or array."""
        out = self._run(["scontrol", "show", "job", "-o", str(job_id)], check=False)
        recs = []
        for line in out.splitlines():
            if "JobId=" in line:
                recs.append(dict(re.findall(r"(\w+)=(\S*)", line)))
        return recs

    def job_states(self, job_id):
        """{array task id (or job id): JobState}; {} once the job has been purged."""
        states = {}
        for rec in self.job_records(job_id):
            if rec.get("ArrayTaskId"):
                for task in expand_ranges(rec["ArrayTaskId"]):
                    states[task] = rec.get("JobState")
            else:
                states[int(rec["JobId"])] = rec.get("JobState")
        return states

    def wait_for(self, predicate, timeout=60.0, interval=0.5, what="condition"):
        """Poll predicate() until truthy; return its value or raise SlurmError."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise SlurmError("timed out waiting for %s\n%s" % (what, self.log_tails()))
            time.sleep(interval)

    def log_tails(self, lines=25):
        """The ends of the daemon logs, to make failures diagnosable."""
        paths = sorted(self.log_dir.glob("*.log")) + sorted(self.log_dir.glob("*.out"))
        return "\n".join("--- %s ---\n%s" % (p, _tail(p, lines)) for p in paths)

    # -- internals ---------------------------------------------------------------

    def _run(self, cmd, timeout=30, check=True):
        """Run a Slurm client against this cluster and return its stdout."""
        try:
            res = subprocess.run(cmd, env=self.env(), capture_output=True, text=True,
                                 timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            if check:
                raise SlurmError("%s timed out" % cmd)
            return ""
        if check and res.returncode != 0:
            raise SlurmError("%s failed (%d): %s" % (cmd, res.returncode, res.stderr.strip()))
        return res.stdout

    def _make_dirs(self):
        """Private dirs: 0700 except munge's socket dir, which munged wants 0755."""
        for sub in ("etc", "munge", "log", "run", "state", "spool"):
            d = self.base / sub
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
        (self.base / "munge").chmod(0o711)  # munged wants the socket path traversable
        sock_dir = self.munge_socket.parent
        sock_dir.mkdir(exist_ok=True)
        sock_dir.chmod(0o755)
        (self.base / "spool").chmod(0o755)  # job scripts are executed from here
        self.base.chmod(0o755)

    def _start_munged(self):
        """munged with its own key and socket; slurm finds it via AuthInfo=socket=."""
        key = self.base / "munge" / "munge.key"
        if not key.exists():
            subprocess.run([_which("mungekey"), "--create", "--keyfile", str(key)],
                           check=True, capture_output=True, timeout=30)
        key.chmod(0o400)
        d = self.base / "munge"
        self._spawn("munged", [
            _which("munged"), "--foreground", "--force",
            "--socket", str(self.munge_socket), "--key-file", str(key),
            "--pid-file", str(self.base / "run" / "munged.pid"),
            "--log-file", str(self.log_dir / "munged.log"), "--seed-file", str(d / "munged.seed"),
            "--num-threads", "2"])
        self._wait(self.munge_socket.exists, "munged socket")

    def _conf_lines(self):
        """slurm.conf lines: root daemons, no cgroups/accounting, fast scheduling."""
        ctld_port, slurmd_port = self.ports = tuple(_free_ports(2))
        b, r = self.base, self.base / "run"
        conf = {
            "ClusterName": "latdifftest",
            "SlurmctldHost": "localhost",
            "SlurmctldPort": ctld_port,
            "SlurmdPort": slurmd_port,
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "CredType": "cred/munge",
            # A requeued job gets BeginTime = (all its processes gone) + cred_expire + 1.
            "AuthInfo": "socket=%s,cred_expire=%d" % (self.munge_socket, self.cred_expire),
            "StateSaveLocation": b / "state",
            "SlurmdSpoolDir": b / "spool",
            "SlurmctldPidFile": r / "slurmctld.pid",
            "SlurmdPidFile": r / "slurmd.pid",
            "SlurmctldLogFile": self.logs["slurmctld"],
            "SlurmdLogFile": self.logs["slurmd"],
            "SlurmctldDebug": "info",
            "SlurmdDebug": "info",
            "MailProg": "/bin/true",
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/none",
            "JobAcctGatherType": "jobacct_gather/none",
            "AccountingStorageType": "accounting_storage/none",
            "JobCompType": "jobcomp/none",
            "MpiDefault": "none",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_CPU",
            "SchedulerType": "sched/backfill",
            # Start jobs at once and re-run the scheduler every 2 s (not 30/60 s), so
            # requeued jobs restart soon after their BeginTime.
            "SchedulerParameters": "batch_sched_delay=0,sched_interval=2,bf_interval=2",
            "ReturnToService": 2,
            "InactiveLimit": 0,
            # SIGTERM -> SIGKILL delay on scancel/requeue/timeout; while a job is killed
            # the node is COMPLETING and no other job starts on it.
            "KillWait": 5,
            "MinJobAge": 300,
            "SlurmdTimeout": 300,
        }
        conf.update(self.extra_conf)
        lines = ["%s=%s" % kv for kv in conf.items()]
        lines.append("NodeName=localhost NodeAddr=127.0.0.1 CPUs=%d State=UNKNOWN" % self.cpus)
        over = "FORCE:%d" % self.oversubscribe if self.oversubscribe > 1 else "NO"
        lines.append("PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE "
                     "State=UP OverSubscribe=%s" % over)
        return lines

    def _write_conf(self):
        """Write slurm.conf (0644: slurmstepd and clients read it too)."""
        self.conf_path.write_text("\n".join(self._conf_lines()) + "\n")
        self.conf_path.chmod(0o644)
        (self.base / "etc").chmod(0o755)

    def _spawn(self, name, cmd):
        """Start a foreground daemon in its own session and record its PID."""
        env = self.env()
        env[MARKER] = str(self.base)  # inherited by slurmstepd, found by _kill_leftovers
        log = open(self.base / "log" / (name + ".out"), "ab")
        try:
            self.procs[name] = subprocess.Popen(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=str(self.base))
        finally:
            log.close()

    def _wait(self, predicate, what):
        """Wait for a start-up condition, failing fast if a daemon died."""
        deadline = time.monotonic() + self.timeout
        while not predicate():
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = "died: %s" % ", ".join(dead) if dead else "timed out"
                raise SlurmError("waiting for %s: %s\n%s" % (what, why, self.log_tails()))
            time.sleep(0.3)

    def _node_idle(self):
        """True once slurmctld reports node localhost IDLE."""
        out = self._run(["scontrol", "show", "node", "-o", "localhost"], timeout=10, check=False)
        m = re.search(r"\bState=(\S+)", out)
        return bool(m) and m.group(1).split("+")[0] == "IDLE"

    @staticmethod
    def _terminate(procs, grace):
        """SIGTERM the process groups, then SIGKILL whatever is left after grace s."""
        procs = [p for p in procs if p.poll() is None]
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    p.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass

    def _leftover_pids(self):
        """slurmstepds (tagged by MARKER) and job processes (our SLURM_CONF + job id)."""
        tag = ("%s=%s" % (MARKER, self.base)).encode()
        conf = ("SLURM_CONF=%s" % self.conf_path).encode()
        skip = {os.getpid()} | {p.pid for p in self.procs.values()}  # those get _terminate
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in skip:
                continue
            try:
                with open("/proc/%s/environ" % entry, "rb") as fh:
                    env = fh.read().split(b"\0")
            except OSError:
                continue
            if tag in env or (conf in env and any(e.startswith(b"SLURM_JOB_ID=") for e in env)):
                pids.append(int(entry))
        return pids

    def _kill_leftovers(self):
        """Job steps survive slurmd's exit; TERM, then KILL them so nothing lingers."""
        for sig, pause in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 1.0)):
            pids = [p for p in self._leftover_pids() if _pid_alive(p)]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            deadline = time.monotonic() + pause
            while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
                time.sleep(0.1)
