import BatonPostgres
import BatonStore
import Dispatch
import Synchronization

/// The shared `RunStore` (SPEC §5, `postgres://…`): any number of baton daemons on
/// several machines on one PostgreSQL database.
///
/// Each store has one connection, on one dedicated serial `DispatchQueue`: every
/// method hops there through a checked continuation, so libpq's blocking calls never
/// run on Swift's cooperative pool. Every operation is one transaction of prepared
/// statements; lease times come from the database's clock. See docs/store.md.
public final class PostgresRunStore: RunStore {
    /// The server's URL without credentials.
    public let location: String
    private let queue: DispatchQueue
    private let box: PostgresTablesBox
    /// Other daemons' changes (`LISTEN baton` on a connection of its own, opened at
    /// the first subscription).
    private let feed: StoreChangeFeed
    private let listener = ListenerSlot()

    /// Connects to `url` and migrates the database. Blocks while it connects (up to
    /// `connect_timeout`, 10 s unless the URL says) and while another daemon migrates:
    /// from async code, use `open(url:)`, which does this on the store's own thread.
    /// - Throws: `StoreError`: `.cantOpen` (refused: user, password, database),
    ///   `.io` (unreachable), `.tooNew` (a newer baton's database), `.corrupt` (another
    ///   program's tables).
    public init(url: String) throws(StoreError) {
        location = PostgresURL.redacted(url)
        queue = DispatchQueue(label: "baton.store.postgres")
        box = PostgresTablesBox(try Self.connect(url: url), location: location)
        feed = Self.makeFeed(url: url, into: listener)
    }

    private init(url: String, queue: DispatchQueue, tables: sending PostgresRunTables) {
        self.location = PostgresURL.redacted(url)
        self.queue = queue
        self.box = PostgresTablesBox(tables, location: location)
        feed = Self.makeFeed(url: url, into: listener)
    }

    /// A feed whose first subscription starts a `PostgresListener` on `url`.
    private static func makeFeed(url: String, into slot: ListenerSlot) -> StoreChangeFeed {
        StoreChangeFeed { feed in
            let started = PostgresListener(url: url, channel: PostgresRunTables.channel) { [weak feed] event in
                guard let feed else { return }
                switch event {
                case .connected: feed.publish(.resync)
                case let .lost(why): feed.publish(.lost(why))
                case let .notification(payload):
                    if let change = PostgresRunTables.change(payload: payload) { feed.publish(change) }
                }
            }
            slot.set(started)
        }
    }

    /// Every daemon's new waiting runs, cancels, pauses and ended runs as they commit.
    public func changeFeed() -> StoreChangeFeed? { feed }

    /// Opens the store at a `postgres://` or `postgresql://` URL (libpq's URI form:
    /// `postgres://user:password@host:port/database?sslmode=require`), connecting and
    /// migrating on the store's own thread.
    /// - Throws: as `init(url:)`.
    public static func open(url: String) async throws(StoreError) -> PostgresRunStore {
        let queue = DispatchQueue(label: "baton.store.postgres")
        let opened = await withCheckedContinuation { (continuation: CheckedContinuation<Result<OpenedTables, StoreError>, Never>) in
            queue.async {
                continuation.resume(returning: Result { () throws(StoreError) in OpenedTables(try connect(url: url)) })
            }
        }
        return PostgresRunStore(url: url, queue: queue, tables: try opened.get().take())
    }

    private static func connect(url: String) throws(StoreError) -> PostgresRunTables {
        guard PostgresURL.isPostgres(url) else {
            throw StoreError(.cantOpen, location: PostgresURL.redacted(url), "not a PostgreSQL URL",
                             hint: "write postgres://USER@HOST:PORT/DATABASE")
        }
        let db = try PostgresSession(url: url)
        do throws(StoreError) {
            try PostgresSchema.migrate(db.pg)
        } catch {
            db.close()
            throw error
        }
        return PostgresRunTables(db: db)
    }

    /// Closes the connection once the operations already started have finished
    /// (`PQfinish`). Later calls fail with `.io` "the store is closed".
    public func close() async {
        stopListening()
        let box = self.box
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                box.close()
                continuation.resume()
            }
        }
    }

    deinit {
        stopListening()
        queue.async { [box] in box.close() }
    }

    private func stopListening() {
        listener.set(nil)
        feed.finish()
    }

    /// Runs `body` on the store's queue and hands its result back to the caller's task.
    func perform<T: Sendable>(_ body: @escaping @Sendable (PostgresRunTables) throws(StoreError) -> T)
        async throws(StoreError) -> T {
        let box = self.box
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StoreError>, Never>) in
            queue.async { continuation.resume(returning: box.run(body)) }
        }
        return try result.get()
    }
}

/// Tables just opened on the store's queue, carried back to the opener once.
private final class OpenedTables: Sendable {
    private let tables: Mutex<PostgresRunTables?>
    init(_ tables: sending PostgresRunTables) { self.tables = Mutex(tables) }
    func take() -> sending PostgresRunTables {
        tables.withLock { t -> sending PostgresRunTables in
            guard let taken = t.take() else { preconditionFailure("opened tables taken twice") }
            return taken
        }
    }
}

/// The connection, reachable from the store's queue only; the mutex is never contended
/// (one serial queue), it only carries the non-Sendable connection across to that queue.
private final class PostgresTablesBox: Sendable {
    private let tables: Mutex<PostgresRunTables?>
    private let location: String

    init(_ tables: sending PostgresRunTables, location: String) {
        self.tables = Mutex(tables)
        self.location = location
    }

    func run<T: Sendable>(_ body: @Sendable (PostgresRunTables) throws(StoreError) -> T) -> Result<T, StoreError> {
        tables.withLock { tables in
            guard let tables else {
                return .failure(StoreError(.io, location: location, "the store is closed"))
            }
            return Result { () throws(StoreError) in try body(tables) }
        }
    }

    func close() {
        tables.withLock { tables in
            tables?.db.close()
            tables = nil
        }
    }
}

/// The feed's listener once started; replacing it stops the one before.
private final class ListenerSlot: Sendable {
    private let listener = Mutex<PostgresListener?>(nil)

    func set(_ new: PostgresListener?) {
        let old = listener.withLock { l -> PostgresListener? in
            defer { l = new }
            return l
        }
        old?.stop()
    }
}
