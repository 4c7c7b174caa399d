import BatonJSON
import BatonReport
import BatonConfig
import BatonCore
import BatonEngine
import BatonStore
import BatonSupervisor
import Dispatch
import Foundation
import Glibc

/// Drives one run in the foreground for invoke, resume and retry: progress, Ctrl-C
/// (first: graceful cancel, second: stop at once), and the closing summary.
struct RunDriver {
    let store: any RunStore
    let json: Bool
    /// Where on-failure= targets are looked up; nil: not followed.
    var global: GlobalOptions? = nil

    func engine(progress: Progress?) -> RunEngine {
        let env = ProcessInfo.processInfo.environment
        return RunEngine(store: store,
                         environment: EngineEnvironment(variables: env, workingDirectory: FileManager.default.currentDirectoryPath,
                                                        owner: RunID.localOwner(),
                                                        leaseMs: global?.leaseMs ?? EngineEnvironment.defaultLeaseMs),
                         observer: progress)
    }

    /// Drives `run` and reports; returns the exit status for it.
    func drive(_ run: RunRecord, job: JobRunSpec, engine: RunEngine, progress: Progress, once: Bool = false,
               budget: Duration? = nil) async throws -> ExitStatus {
        try? Supervisor.prepareProcess()
        let control = RunControl()
        let signals = Self.trapInterrupts(control, runId: run.id, progress: progress)
        defer { for s in signals { s.cancel() } }
        if !json { progress.write("baton: run \(run.id) of \(job.name) started") }
        let final: RunRecord
        do {
            final = try await engine.drive(runId: run.id, job: job, control: control, once: once, budget: budget, claimed: run)
        } catch {
            progress.end()
            Console.fail(error.description, hint: error.hint)
            return .failure
        }
        _ = await Supervisor.offPool { Supervisor.sweepStrays(reapZombies: true) }
        progress.end()
        let status = try await report(final, once: once)
        if final.status == .failed, job.options.onFailure != nil { try await followOnFailure(final, job: job, engine: engine) }
        return status
    }

    /// on-failure= (`RunEngine.followOnFailure`, as the daemon and tick): the run it
    /// starts is driven here too, in the foreground.
    func followOnFailure(_ failed: RunRecord, job: JobRunSpec, engine: RunEngine) async throws {
        let set = global.map { $0.loader().load(paths: [$0.schedules]) }
        switch try await engine.followOnFailure(of: failed, job: job, lookup: { set?.job(named: $0).map(JobRunSpec.init) }) {
        case .none:
            break
        case let .started(run, target):
            if !json { Console.err("baton: on-failure=\(target.name): run \(run.id) started for failed run \(failed.id)") }
            let progress = Progress()
            _ = try await drive(run, job: target, engine: self.engine(progress: progress), progress: progress)
        case let .refused(target, why):
            Console.err("baton: on-failure=\(target): not started: \(why)")
        }
    }

    func report(_ run: RunRecord, once: Bool) async throws -> ExitStatus {
        let last = once ? try await store.slices(runId: run.id).last : nil
        if json {
            var doc = RunText.json(run)
            if let last { doc["last_slice"] = RunText.json(last) }
            Console.out(JSON.encode(doc))
        } else {
            let took = RunText.duration(RunText.elapsed(run))
            Console.err("baton: run \(run.id) \(run.status.rawValue) after \(run.slicesDone) slice(s) in \(took): \(RunText.counts(run.counts))")
            if let e = run.error, run.status != .succeeded { Console.err("  \(e)" + (try await lastLogNote(run))) }
            if run.failedOnItems {
                Console.err("  \(run.counts.failed) item(s) failed: \(command("retry", run.id))")
            } else {
                if !run.status.isFinished || [.cancelled, .failed, .partial].contains(run.status) {
                    Console.err("  continue with: \(command("resume", run.id))")
                }
                if run.counts.failed > 0 { Console.err("  retry failed items with: \(command("retry", run.id))") }
            }
        }
        switch run.status {
        case .succeeded: return .success
        case .running, .queued: return once && last?.outcome == .succeeded ? .success : .failure
        case .failed, .cancelled, .partial: return .failure
        }
    }

    /// A follow-up command that works as printed (with this command's --schedules/--state).
    func command(_ verb: String, _ runId: String) -> String {
        global?.command(verb, runId) ?? "baton \(verb) \(runId)"
    }

    /// `: last log line: "db locked"` from the failed slice of a failed run, or "".
    func lastLogNote(_ run: RunRecord) async throws -> String {
        guard run.status == .failed, let failed = try await store.slices(runId: run.id).last(where: { $0.outcome != .succeeded }),
              let line = RunText.lastLogLine(failed) else { return "" }
        return ": last log line: \(JSONValue.quote(line))"
    }

    /// SIGINT/SIGTERM: the first asks for a graceful cancel (the slice gets SIGTERM,
    /// its cursor is committed); the second stops the slice at once.
    static func trapInterrupts(_ control: RunControl, runId: String, progress: Progress) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if control.current >= .cancel {
                    progress.write("baton: stopping now")
                    control.request(.kill)
                } else {
                    progress.write("baton: cancelling run \(runId) (the slice gets SIGTERM; Ctrl-C again to stop at once)")
                    control.request(.cancel)
                }
            }
            source.resume()
            return source
        }
    }

    /// The job a run belongs to: from the schedules, or the ad-hoc command it stored.
    static func job(for run: RunRecord, global: GlobalOptions) throws -> JobRunSpec {
        if let command = run.command { return JobRunSpec(name: run.job, command: command) }
        let set = global.loader().load(paths: [global.schedules])
        guard let job = set.job(named: run.job) else {
            throw UsageError(message: "run \(run.id) belongs to job '\(run.job)', which \(global.schedules) no longer defines",
                             hint: "restore the job's entry, or point --schedules at the directory it came from")
        }
        return JobRunSpec(job)
    }
}
