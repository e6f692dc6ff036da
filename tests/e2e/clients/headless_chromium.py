"""Headless Chromium for the e2e clients: a throwaway profile under WORKDIR, the flags
every run here needs, and nothing left running or on disk afterwards.

Chromium runs as root here (under `phonehome watch --keep-root`), which needs
--no-sandbox. HOME, the XDG directories and TMPDIR (where Chromium keeps its singleton
socket) all point into the profile, so runs never share state.
"""

import os
import shutil
import signal
import subprocess
import tempfile

QUIET = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-features=MediaRouter,OptimizationHints", "--metrics-recording-only",
]


class Chromium:
    """`with Chromium(workdir, flags) as c:` runs Chromium with `flags` after QUIET.

    `c.proc` is the process, `c.profile` its profile and HOME. Its output goes to a log
    whose tail is `c.log` once the block ends, unless `pipes` asks for stdout and stderr
    as pipes (then read them inside the block). `setup(profile, env)` runs before the
    start, to prepare the profile (an NSS database, say).
    """

    def __init__(self, workdir, flags, *, pipes=False, setup=None, log_tail=3000):
        self.workdir, self.flags, self.pipes, self.setup = workdir, flags, pipes, setup
        self.log_tail, self.log = log_tail, ""

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=self.workdir)
        env = dict(os.environ, HOME=self.profile, XDG_CONFIG_HOME=self.profile,
                   XDG_CACHE_HOME=self.profile, TMPDIR=self.profile)
        if self.setup:
            self.setup(self.profile, env)
        argv = ["chromium", *QUIET, f"--user-data-dir={self.profile}", *self.flags]
        if self.pipes:
            out = err = subprocess.PIPE
        else:
            self._log = open(os.path.join(self.profile, "chromium.log"), "wb")
            out = err = self._log
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, env=env, start_new_session=True)
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self._stop()
        self._cleanup()
        return False

    def _stop(self):
        # Chromium's helpers (zygote, GPU, renderers) share its process group.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def _cleanup(self):
        log = getattr(self, "_log", None)
        if log:
            log.close()
            with open(log.name, "rb") as f:
                self.log = f.read()[-self.log_tail:].decode(errors="replace")
        shutil.rmtree(self.profile, ignore_errors=True)
