import BatonStore
import XCTest

/// The behaviour every `RunStore` must have, as checks a backend's test class calls one
/// by one (`testX() { try await suite.x() }`), so SQLite and PostgreSQL answer the same
/// questions. Each check stands alone on an empty store.
struct RunStoreConformance {
    /// Opens a new handle on the store under test. Within one test every call reaches the
    /// same store (a second call is a second connection), which starts empty.
    let open: () async throws -> any RunStore

    static let job = "send-batches"

    /// A run with every optional field set, and text that is easy to mangle.
    static func fullRun(_ id: String = "r_full") -> NewRun {
        NewRun(id: id, job: job, trigger: .webhook, scheduledAt: 1_795_343_400_000, createdAt: 1_795_343_400_123,
               cursor: "b:42 \"quoted\" / é ✓", params: #"{"k":"v"}"#, payload: #"{"items":["lead_1","lead_2"]}"#,
               command: ["handlers/send", "--to", "a b/c", "\"q\"", "ünï", ""], parentRun: "r_parent",
               status: .queued)
    }

    static func run(_ id: String, job: String = job, createdAt: Int64 = 1_000, status: RunStatus = .running) -> NewRun {
        NewRun(id: id, job: job, trigger: .cron, scheduledAt: createdAt, createdAt: createdAt, status: status)
    }

    /// The record `createRun` must return for `new`.
    static func created(_ new: NewRun) -> RunRecord {
        RunRecord(id: new.id, job: new.job, trigger: new.trigger, status: new.status, scheduledAt: new.scheduledAt,
                  createdAt: new.createdAt, updatedAt: new.createdAt, cursor: new.cursor, params: new.params,
                  payload: new.payload, command: new.command, parentRun: new.parentRun, owner: new.owner)
    }

    // MARK: Runs

    func createdRunReadsBackEveryField() async throws {
        let store = try await open()
        let new = Self.fullRun()
        let created = try await store.createRun(new)
        XCTAssertEqual(created, Self.created(new))
        let read = try await store.run(id: new.id)
        XCTAssertEqual(read, Self.created(new))

        let bare = Self.run("r_bare")
        _ = try await store.createRun(bare)
        let readBare = try await store.run(id: "r_bare")
        XCTAssertEqual(readBare, Self.created(bare))
        XCTAssertNil(readBare?.cursor)
        XCTAssertNil(readBare?.command)
        XCTAssertNil(readBare?.payload)
        let missing = try await store.run(id: "r_missing")
        XCTAssertNil(missing)
    }

    /// Issue 11: `baton show` links a run to its retries, `baton retry` sees them.
    func retriesOfARunAreItsChildrenNewestFirst() async throws {
        let store = try await open()
        _ = try await store.createRun(Self.run("r_old", createdAt: 1_000))
        var first = Self.run("r_retry1", createdAt: 2_000); first.parentRun = "r_old"
        var second = Self.run("r_retry2", createdAt: 3_000); second.parentRun = "r_old"
        var grandchild = Self.run("r_retry3", createdAt: 4_000); grandchild.parentRun = "r_retry2"
        for r in [first, second, grandchild] { _ = try await store.createRun(r) }
        _ = try await store.createRun(Self.run("r_other", createdAt: 5_000))
        let retries = try await store.retries(of: "r_old")
        XCTAssertEqual(retries.map(\.id), ["r_retry2", "r_retry1"])
        let none = try await store.retries(of: "r_other")
        XCTAssertEqual(none, [])
    }

    func createRunRefusesAnExistingId() async throws {
        let store = try await open()
        _ = try await store.createRun(Self.run("r_1"))
        await assertThrows(.conflict) { () throws(StoreError) in _ = try await store.createRun(Self.run("r_1", createdAt: 9)) }
        let kept = try await store.run(id: "r_1")
        XCTAssertEqual(kept?.createdAt, 1_000, "the first run stays as it was")
    }

    func runsAreNewestFirstAndFiltered() async throws {
        let store = try await open()
        // r_a3 and r_a2 tie on createdAt; inserted against id order so only the id can order them.
        _ = try await store.createRun(Self.run("r_a1", job: "a", createdAt: 10, status: .succeeded))
        _ = try await store.createRun(Self.run("r_a3", job: "a", createdAt: 30, status: .succeeded))
        _ = try await store.createRun(Self.run("r_b1", job: "b", createdAt: 20, status: .succeeded))
        _ = try await store.createRun(Self.run("r_a2", job: "a", createdAt: 30, status: .failed))
        _ = try await store.createRun(Self.run("r_b2", job: "b", createdAt: 40, status: .running))

        let all = try await store.runs(job: nil, status: nil, limit: 100).map(\.id)
        XCTAssertEqual(all, ["r_b2", "r_a3", "r_a2", "r_b1", "r_a1"], "by createdAt, then id, descending")
        let jobA = try await store.runs(job: "a", status: nil, limit: 100).map(\.id)
        XCTAssertEqual(jobA, ["r_a3", "r_a2", "r_a1"])
        let succeeded = try await store.runs(job: nil, status: .succeeded, limit: 100).map(\.id)
        XCTAssertEqual(succeeded, ["r_a3", "r_b1", "r_a1"])
        let succeededA = try await store.runs(job: "a", status: .succeeded, limit: 100).map(\.id)
        XCTAssertEqual(succeededA, ["r_a3", "r_a1"])
        let two = try await store.runs(job: nil, status: nil, limit: 2).map(\.id)
        XCTAssertEqual(two, ["r_b2", "r_a3"])
        let none = try await store.runs(job: nil, status: nil, limit: 0)
        XCTAssertEqual(none, [])
        let unknown = try await store.runs(job: "c", status: nil, limit: 10)
        XCTAssertEqual(unknown, [])
    }

    func runsPageFromBeforeNewestFirst() async throws {
        let store = try await open()
        // r_a3 and r_a2 tie on createdAt: a page boundary between them must lose neither.
        _ = try await store.createRun(Self.run("r_a1", job: "a", createdAt: 10, status: .succeeded))
        _ = try await store.createRun(Self.run("r_a3", job: "a", createdAt: 30, status: .succeeded))
        _ = try await store.createRun(Self.run("r_b1", job: "b", createdAt: 20, status: .succeeded))
        _ = try await store.createRun(Self.run("r_a2", job: "a", createdAt: 30, status: .failed))
        _ = try await store.createRun(Self.run("r_b2", job: "b", createdAt: 40, status: .running))

        var pages: [[String]] = []
        var before: (createdAt: Int64, id: String)?
        repeat {
            let page = try await store.runs(job: nil, status: nil, before: before, limit: 2)
            pages.append(page.map(\.id))
            before = page.count == 2 ? (page[1].createdAt, page[1].id) : nil
        } while before != nil
        XCTAssertEqual(pages, [["r_b2", "r_a3"], ["r_a2", "r_b1"], ["r_a1"]], "pages in order, none lost or repeated")
        let afterA3 = try await store.runs(job: "a", status: nil, before: (30, "r_a3"), limit: 10).map(\.id)
        XCTAssertEqual(afterA3, ["r_a2", "r_a1"])
        let succeededAfter = try await store.runs(job: nil, status: .succeeded, before: (30, "r_a3"), limit: 10).map(\.id)
        XCTAssertEqual(succeededAfter, ["r_b1", "r_a1"])
        let first = try await store.runs(job: nil, status: nil, before: nil, limit: 1).map(\.id)
        XCTAssertEqual(first, ["r_b2"])
    }

    // MARK: Cancel and claim

    func requestCancelFlagsUnfinishedRunsOnly() async throws {
        let store = try await open()
        _ = try await store.createRun(Self.run("r_live"))
        _ = try await store.createRun(Self.run("r_done", status: .succeeded))
        let live = try await store.requestCancel(runId: "r_live", at: 2_000)
        XCTAssertEqual(live?.cancelRequested, true)
        XCTAssertEqual(live?.updatedAt, 2_000)
        let again = try await store.requestCancel(runId: "r_live", at: 3_000)
        XCTAssertEqual(again?.cancelRequested, true, "asking twice keeps the flag")
        let read = try await store.run(id: "r_live")
        XCTAssertEqual(read?.cancelRequested, true)

        let done = try await store.requestCancel(runId: "r_done", at: 2_000)
        XCTAssertEqual(done, Self.created(Self.run("r_done", status: .succeeded)), "a finished run is returned unchanged")
        let missing = try await store.requestCancel(runId: "r_missing", at: 2_000)
        XCTAssertNil(missing)
    }

    func pruneKeepsTheNewestFinishedRunsWithTheirSlicesAndItems() async throws {
        let store = try await open()
        // r_6 ties with r_5 on createdAt and is created first: only the id makes it newer.
        _ = try await store.createRun(Self.run("r_6", createdAt: 500, status: .failed))
        for i in 1...5 {
            let id = "r_\(i)"
            _ = try await store.createRun(Self.run(id, createdAt: Int64(i) * 100, status: .running))
            try await Self.commitOne(store, id, items: ["x\(i)", "y\(i)"], status: .succeeded)
        }
        _ = try await store.createRun(Self.run("r_live", createdAt: 1, status: .running))
        _ = try await store.createRun(Self.run("r_other", job: "other", createdAt: 1, status: .succeeded))

        let deleted = try await store.prune(job: Self.job, keep: 2)
        XCTAssertEqual(deleted, 4)
        let left = try await store.runs(job: nil, status: nil, limit: 100).map(\.id)
        XCTAssertEqual(Set(left), ["r_6", "r_5", "r_live", "r_other"],
                       "the newest 2 finished runs, the unfinished one and other jobs' runs stay")
        for gone in ["r_1", "r_2", "r_3", "r_4"] {
            let slices = try await store.slices(runId: gone)
            let items = try await store.items(runId: gone, status: nil)
            XCTAssertEqual(slices, [], "slices of \(gone)")
            XCTAssertEqual(items, [], "items of \(gone)")
        }
        let keptSlices = try await store.slices(runId: "r_5")
        XCTAssertEqual(keptSlices.count, 1)
        let keptItems = try await store.items(runId: "r_5", status: nil)
        XCTAssertEqual(keptItems.map(\.itemId), ["x5", "y5"])

        let again = try await store.prune(job: Self.job, keep: 2)
        XCTAssertEqual(again, 0, "pruning is idempotent")
        let tie = try await store.prune(job: Self.job, keep: 1)
        XCTAssertEqual(tie, 1)
        let newest = try await store.runs(job: Self.job, status: nil, limit: 100).map(\.id)
        XCTAssertEqual(newest, ["r_6", "r_live"], "of two runs created at once, the greater id is the newer")
        let all = try await store.prune(job: Self.job, keep: 0)
        XCTAssertEqual(all, 1)
        let remaining = try await store.runs(job: Self.job, status: nil, limit: 100).map(\.id)
        XCTAssertEqual(remaining, ["r_live"])
    }
}

/// Asserts that `body` throws a `StoreError` of `kind` and returns it.
@discardableResult
func assertThrows<T>(_ kind: StoreError.Kind, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () async throws(StoreError) -> T) async -> StoreError? {
    do throws(StoreError) {
        _ = try await body()
        XCTFail("expected a .\(kind) error, got none", file: file, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        return error
    }
}
