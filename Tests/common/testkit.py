"""What the Python suites (Tests/http, Tests/providers) share: polling with a deadline
(never a bare sleep standing in for a condition) and stopping a child process."""
import signal
import subprocess
import time


def wait_for(what, predicate, timeout=10.0, interval=0.05):
    """Polls predicate() until it returns a truthy value (returned) or the deadline
    passes (AssertionError naming `what` and the last value seen)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
