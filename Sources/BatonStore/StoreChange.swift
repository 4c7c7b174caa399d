/// What another process changed in a shared store that a daemon acts on at once
/// (`StoreChangeFeed`). Each names what changed, never what it holds (no payloads, no
/// secrets): the daemon reads the store for the rest.
public enum StoreChange: Sendable, Equatable {
    /// A run nobody holds waits for a driver: queued by a request no driver took at
    /// once, or let go by its driver (a drain) before it finished.
    case runWaiting(job: String, run: String)
    /// Someone asked `run` to stop (`baton cancel`, the API): its driver acts now.
    case cancelRequested(job: String, run: String)
    /// `job` was paused or unpaused.
    case jobState(job: String)
    /// `run` finished: runs of `job` waiting behind it (`overlap=`) and jobs waiting for
    /// a lock it held (`lock=`) may go.
    case runEnded(job: String, run: String)
    /// The feed (re)connected. Changes made while it was away were not told: look at
    /// everything (pauses, unfinished runs, locks) once.
    case resync
    /// The feed lost its connection (why, without credentials); it reconnects, and
    /// polls carry on meanwhile.
    case lost(String)
}
