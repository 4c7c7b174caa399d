import Dispatch
import Synchronization

/// A backend's connection on a thread of its own: one serial `DispatchQueue` that alone
/// touches `Tables` (the non-Sendable connection and what it caches). Every operation
/// hops there through a checked continuation, so a blocking driver call (`sqlite3_step`,
/// libpq) never runs on Swift's cooperative pool. Closing waits for the operations
/// already queued; later ones fail with `.io` "the store is closed".
public final class StoreThread<Tables>: Sendable {
    private let queue: DispatchQueue
    private let box: Box

    /// `tables` moves to `queue` (which may already have opened them); `close` releases
    /// them there.
    public init(queue: DispatchQueue, location: String, tables: sending Tables, close: @escaping @Sendable (Tables) -> Void) {
        self.queue = queue
        self.box = Box(tables, location: location, close: close)
    }

    /// Runs `body` on the store's thread and hands its result back to the caller's task.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Tables) throws(StoreError) -> T) async throws(StoreError) -> T {
        let box = self.box
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StoreError>, Never>) in
            queue.async { continuation.resume(returning: box.run(body)) }
        }
        return try result.get()
    }

    /// Queues `body` without waiting for it: it runs before anything queued later. When
    /// the store is closed, `closed` gets that failure instead.
    public func later(_ body: @escaping @Sendable (Tables) -> Void, closed: @escaping @Sendable (StoreError) -> Void = { _ in }) {
        let box = self.box
        queue.async {
            if case let .failure(error) = box.run({ tables throws(StoreError) in body(tables) }) { closed(error) }
        }
    }

    /// Closes the connection once the operations already queued have finished.
    public func close() async {
        let box = self.box
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                box.close()
                continuation.resume()
            }
        }
    }

    deinit {
        // Queued after every operation still in flight; they hold the box, not the thread.
        queue.async { [box] in box.close() }
    }

    /// The tables, reachable from the queue only; the mutex is never contended (one
    /// serial queue), it only carries the non-Sendable connection across to that queue.
    private final class Box: Sendable {
        private let tables: Mutex<Tables?>
        private let location: String
        private let closeTables: @Sendable (Tables) -> Void

        init(_ tables: sending Tables, location: String, close: @escaping @Sendable (Tables) -> Void) {
            self.tables = Mutex(tables)
            self.location = location
            self.closeTables = close
        }

        func run<T: Sendable>(_ body: @Sendable (Tables) throws(StoreError) -> T) -> Result<T, StoreError> {
            tables.withLock { tables in
                guard let tables else { return .failure(StoreError(.io, location: location, "the store is closed")) }
                return Result { () throws(StoreError) in try body(tables) }
            }
        }

        func close() {
            tables.withLock { tables in
                if let t = tables { closeTables(t) }
                tables = nil
            }
        }
    }
}
