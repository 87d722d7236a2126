"""build_memory.py samples the memory a statement uses while it runs on one
backend of a server on this machine (issue 16: "build time and memory"):

- private: the backend's anonymous resident memory (RssAnon in
  /proc/PID/status) plus that of its parallel workers (processes titled
  "parallel worker for PID <backend>"), summed at each sample;
- shared: how far the machine's shared memory (Shmem in /proc/meminfo:
  shared buffers first touched, dynamic shared memory segments) grew over
  its value when sampling began.

Each is the peak over samples every `interval` seconds, so a peak shorter
than that can be missed. Read /proc only: it must run on the server's
machine, as a user that may read the server's /proc entries.
"""
import os
import threading


def _status_kb(pid, field):
    """_status_kb returns a field of /proc/PID/status in kB (0 when gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _meminfo_kb(field):
    """_meminfo_kb returns a field of /proc/meminfo in kB."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _workers_of(leader):
    """_workers_of lists the pids whose process title names leader as
    their parallel leader."""
    tag = f"parallel worker for PID {leader}".encode()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if tag in f.read():
                    pids.append(int(name))
        except OSError:
            continue
    return pids


class BuildMemory:
    """BuildMemory samples on a thread between start() and stop()."""

    def __init__(self, backend_pid, interval=0.05):
        self.pid = backend_pid
        self.interval = interval
        self.peak_private_kb = 0
        self.peak_shared_kb = 0
        self.max_workers = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None
        self._shmem0 = 0

    def _sample(self):
        workers = _workers_of(self.pid)
        private = _status_kb(self.pid, "RssAnon") + sum(_status_kb(w, "RssAnon") for w in workers)
        shared = _meminfo_kb("Shmem") - self._shmem0
        self.peak_private_kb = max(self.peak_private_kb, private)
        self.peak_shared_kb = max(self.peak_shared_kb, shared)
        self.max_workers = max(self.max_workers, len(workers))
        self.samples += 1

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self):
        """start records the baseline and begins sampling."""
        self._shmem0 = _meminfo_kb("Shmem")
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """stop ends sampling and returns the peaks in MB."""
        self._stop.set()
        self._thread.join()
        return {"peak_private_mb": self.peak_private_kb / 1024, "peak_shared_growth_mb": self.peak_shared_kb / 1024,
                "parallel_workers_seen": self.max_workers, "memory_samples": self.samples}
