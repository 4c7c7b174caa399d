import Dispatch
import Glibc
import Synchronization

/// Makes an SQLite database's commits durable in the background
/// (`AppDatabase.syncInBackground`): an `fdatasync(2)` of its WAL file on a queue of its
/// own. It takes none of SQLite's locks, so the connection (and every other process's)
/// goes on committing meanwhile; a synced commit (`synchronous=FULL`) would hold the
/// database's write lock for the whole sync instead.
///
/// Sound because of how WAL mode writes: a commit appends its frames to the WAL, and
/// after a crash of the machine SQLite keeps the WAL's longest valid prefix of commits,
/// so once the file's data is on disk every commit written before the sync began
/// survives. The file is opened by name at each sync: it is the file SQLite appends to
/// for as long as any connection has the database open (it deletes the WAL only at the
/// last close), and this connection is open. The first sync also syncs the directory,
/// as SQLite does at a new WAL's first sync, so a WAL made since the boot is found.
final class WALSync: Sendable {
    let path: String
    private let queue = DispatchQueue(label: "baton.app-db.wal-sync")
    /// The first failure a sync met, thrown by every later `wait()`.
    private let failure = Mutex<String?>(nil)
    private let directorySynced = Mutex(false)

    init(path: String) { self.path = path }

    /// Starts a sync of everything written to the WAL until now.
    func start() {
        queue.async { [self] in
            var error = Self.sync(path, data: true)
            if error == 0, !directorySynced.withLock({ $0 }) {
                let slash = path.lastIndex(of: "/")
                error = Self.sync(slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".", data: false)
                if error == 0 { directorySynced.withLock { $0 = true } }
            }
            if error != 0 { failure.withLock { $0 = $0 ?? String(cString: strerror(error)) } }
        }
    }

    /// `fdatasync` (a file) or `fsync` (a directory) of `path`; 0 or the errno.
    private static func sync(_ path: String, data: Bool) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return (data ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : errno
    }

    /// Returns once every sync started has finished.
    /// - Throws: when one failed: what was written since may not be on disk.
    func wait() throws(HandlerError) {
        queue.sync {}
        if let why = failure.withLock({ $0 }) {
            throw HandlerError("APP_DB: syncing \(path) to disk failed: \(why)",
                               hint: "check the disk and the file system holding APP_DB (dmesg); nothing more is sent until it syncs")
        }
    }
}
