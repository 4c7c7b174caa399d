@testable import BatonStore
import Synchronization
import XCTest

/// A store outage is told once when it begins and once when it is over (issue 15, item 5):
/// not per failed operation, and not back-and-down again at each retry of a store that
/// answers some operations and refuses others.
final class StoreHealthTests: XCTestCase {
    /// The events reported, as text.
    final class Recorder: Sendable {
        let lines = Mutex<[String]>([])
        func withLock<T>(_ body: (inout [String]) -> T) -> T { lines.withLock { body(&$0) } }
    }

    let events = Recorder()

    func health(settle: Duration) -> StoreHealth {
        let events = self.events
        return StoreHealth(settle: settle) { event in
            switch event {
            case let .down(operation, error): events.withLock { $0.append("down \(operation) \(error.kind)") }
            case let .back(_, failed): events.withLock { $0.append("back \(failed)") }
            }
        }
    }

    static let unreachable = StoreError(.io, location: "postgres://baton@db/baton", "PQexecPrepared failed: terminating connection")

    func testOneLineWhenItGoesAndOneWhenItIsBackCountingTheFailuresBetween() throws {
        let h = health(settle: .milliseconds(200))
        h.succeeded()
        h.failed("jobStates", Self.unreachable)
        for _ in 0..<50 { h.failed("commitSlice", Self.unreachable) }
        XCTAssertTrue(h.isDown)
        XCTAssertEqual(events.withLock { $0 }, ["down jobStates io"])
        h.succeeded()  // the first success starts the settling; it is not over yet
        XCTAssertEqual(events.withLock { $0 }.count, 1)
        let until = ContinuousClock.now + .seconds(5)
        while events.withLock({ $0.count }) < 2, ContinuousClock.now < until {
            Thread.sleep(forTimeInterval: 0.05)
            h.succeeded()
        }
        XCTAssertEqual(events.withLock { $0 }, ["down jobStates io", "back 51"])
        XCTAssertFalse(h.isDown)
    }

    func testAFailureWhileSettlingKeepsTheSameOutage() {
        let h = health(settle: .seconds(3600))
        h.failed("commitSlice", StoreError(.full, location: "var/baton.db", "disk full"))
        for _ in 0..<10 {
            h.succeeded()   // reads of a full disk still work
            h.failed("commitSlice", StoreError(.full, location: "var/baton.db", "disk full"))
        }
        XCTAssertEqual(events.withLock { $0 }, ["down commitSlice full"])
        XCTAssertTrue(h.isDown)
    }

    func testFailuresThatCannotPassAreNoOutage() {
        let h = health(settle: .milliseconds(1))
        for kind: StoreError.Kind in [.fenced, .conflict, .notFound, .corrupt, .readOnly, .cantOpen, .tooNew] {
            h.failed("claim", StoreError(kind, location: "x", "refused"))
        }
        XCTAssertFalse(h.isDown)
        XCTAssertEqual(events.withLock { $0 }, [])
    }
}
