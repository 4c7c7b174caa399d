import CProcessShims
import Glibc

/// The per-slice loop, on its own thread: writes stdin, drains stdout and stderr
/// (bounded: past the bound it keeps reading and discards, so the child never blocks
/// and memory stays flat), watches the pidfd, and signals the group at the budget.
struct PollLoop {
    let spec: SliceSpec
    let pid: pid_t
    let wakeRead: Int32
    let onLogLine: (@Sendable (String) -> Void)?
    var stdinFD: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    var pidFD: Int32
    var written = 0
    var output: [UInt8] = []
    var outputTruncated = false
    var log: [UInt8] = []
    var logTruncated = false
    var pendingLine: [UInt8] = []
    var status: Int32?
    var stopped: SliceExit.StopReason?
    var killed = false
    var statusLost = false
    /// The threads whose children the stray sweep reads (nil: every thread).
    var sweepThreads: [pid_t]?

    static let maxLine = 16 * 1024

    init(spec: SliceSpec, child: SpawnedProcess, wakeRead: Int32, onLogLine: (@Sendable (String) -> Void)?) {
        self.spec = spec
        self.pid = child.pid
        self.wakeRead = wakeRead
        self.onLogLine = onLogLine
        stdinFD = child.stdinWrite
        stdoutFD = child.stdoutRead
        stderrFD = child.stderrRead
        pidFD = baton_pidfd_open(child.pid)
        if spec.input.isEmpty { close(stdinFD); stdinFD = -1 }
    }

    mutating func run(stopState: () -> (stop: Bool, kill: Bool)) -> SliceExit {
        let start = monotonicMilliseconds()
        let startTicks = Supervisor.bootTicks()
        let budgetMs = Self.milliseconds(spec.budget), graceMs = Self.milliseconds(spec.grace)
        var killAt = Int64.max
        var drainUntil = Int64.max
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while true {
            let now = monotonicMilliseconds()
            if status == nil {
                let (stopReq, killReq) = stopState()
                if stopped == nil && (stopReq || now - start >= budgetMs) {
                    stopped = stopReq ? .requested : .budget
                    Glibc.kill(-pid, SIGTERM)
                    killAt = now + graceMs
                }
                if !killed && (killReq || now >= killAt) {
                    Glibc.kill(-pid, SIGKILL)
                    killed = true
                }
                if hasExited() {
                    // Still a zombie, so the group id cannot have been reused: stop
                    // whatever the handler left running in its group, then reap it.
                    Glibc.kill(-pid, SIGKILL)
                    var st: Int32 = 0
                    if case .success = retryingInterrupts({ waitpid(pid, &st, 0) }) { status = st } else { status = 0; statusLost = true }
                    drainUntil = monotonicMilliseconds() + 500
                }
            }
            if status != nil && ((stdoutFD < 0 && stderrFD < 0) || now >= drainUntil) { break }

            var fds: [pollfd] = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if status == nil && pidFD >= 0 { fds.append(pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)) }
            var timeout = Int64.max
            if status == nil {
                timeout = stopped == nil ? start + budgetMs - now : (killed ? Int64.max : killAt - now)
                if pidFD < 0 || killed { timeout = min(timeout, 20) }  // no pidfd: look again soon
            } else {
                timeout = drainUntil - now
            }
            let ms = Int32(clamping: max(0, min(timeout, 60_000)))
            _ = retryingInterrupts { poll(&fds, nfds_t(fds.count), ms) }

            drainWake()
            writeInput()
            stdoutFD = readAvailable(stdoutFD, into: &buffer, isLog: false)
            stderrFD = readAvailable(stderrFD, into: &buffer, isLog: true)
        }
        flushLine(force: true)
        for fd in [stdinFD, stdoutFD, stderrFD, pidFD] where fd >= 0 { close(fd) }
        let strays = spec.marker.map { Supervisor.sweepStrays(marker: $0, startedAfterTicks: startTicks - 1, threads: sweepThreads) } ?? 0
        let st = status ?? 0
        let termination: SliceExit.Termination = baton_wifsignaled(st) != 0
            ? .signaled(baton_wtermsig(st)) : .exited(baton_wexitstatus(st))
        return SliceExit(termination: termination, output: output, outputTruncated: outputTruncated, log: log,
                         logTruncated: logTruncated, stopped: stopped, killed: killed,
                         durationMilliseconds: monotonicMilliseconds() - start, strays: strays, statusLost: statusLost)
    }

    /// True once the child has exited; it stays a zombie until `waitpid`.
    func hasExited() -> Bool {
        var info = siginfo_t()
        let r = retryingInterrupts { waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) }
        guard case .success = r else { return true }  // ECHILD: already gone
        return info._sifields._sigchld.si_pid == pid
    }

    mutating func drainWake() {
        guard wakeRead >= 0 else { return }
        var b = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &b, b.count) > 0 {}
    }

    mutating func writeInput() {
        guard stdinFD >= 0 else { return }
        let n = spec.input[written...].withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
        if n > 0 { written += n }
        if written >= spec.input.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
            close(stdinFD)  // EPIPE: the handler does not read its input; that is its business
            stdinFD = -1
        }
    }

    /// Reads all that is available; returns the descriptor, or -1 once it is closed.
    mutating func readAvailable(_ fd: Int32, into buffer: inout [UInt8], isLog: Bool) -> Int32 {
        guard fd >= 0 else { return -1 }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if isLog || spec.stdoutIsLog { appendLog(buffer[0..<n]) } else { appendOutput(buffer[0..<n]) }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return fd }
            close(fd)  // EOF or error
            return -1
        }
    }

    mutating func appendOutput(_ chunk: ArraySlice<UInt8>) {
        let room = spec.outputLimit - output.count
        if chunk.count > room { outputTruncated = true }
        if room > 0 { output.append(contentsOf: chunk.prefix(room)) }
    }

    mutating func appendLog(_ chunk: ArraySlice<UInt8>) {
        let room = spec.logLimit - log.count
        if chunk.count > room {
            if !logTruncated { flushLine(force: true); onLogLine?("[log cut at \(spec.logLimit) bytes]") }
            logTruncated = true
        }
        guard room > 0 else { return }
        let kept = chunk.prefix(room)
        log.append(contentsOf: kept)
        guard onLogLine != nil else { return }
        pendingLine.append(contentsOf: kept)
        flushLine(force: false)
    }

    mutating func flushLine(force: Bool) {
        guard let emit = onLogLine else { return }
        while let nl = pendingLine.firstIndex(of: 10) {
            emit(String(decoding: pendingLine[..<nl], as: UTF8.self))
            pendingLine.removeSubrange(...nl)
        }
        if !pendingLine.isEmpty && (force || pendingLine.count >= Self.maxLine) {
            emit(String(decoding: pendingLine, as: UTF8.self))
            pendingLine.removeAll(keepingCapacity: true)
        }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        let (s, a) = d.components
        return s * 1000 + a / 1_000_000_000_000_000
    }
}
