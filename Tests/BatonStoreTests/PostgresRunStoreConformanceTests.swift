import BatonStore
import BatonTestSupport
import BatonStorePostgres
import Foundation
import XCTest

/// The RunStore conformance suite on a real PostgreSQL server (`BATON_TEST_PG_URL`):
/// each test gets a database of its own, and each `open` a new connection to it (a
/// second daemon). Without the variable every test is skipped and says why.
final class PostgresRunStoreConformanceTests: XCTestCase {
    private var database: PostgresTestDatabase?
    private var suite: RunStoreConformance!

    override func setUpWithError() throws {
        let database = try PostgresTestDatabase()
        self.database = database
        let url = database.url
        suite = RunStoreConformance(open: { try await PostgresRunStore.open(url: url) })
    }

    override func tearDown() {
        database?.drop()
    }

    /// The same checks as SQLiteRunStoreConformanceTests, no fewer: compared by reading
    /// both files, so a check added to one backend's list and not the other's fails here.
    func testRunsEveryCheckTheSQLiteSuiteRuns() throws {
        let here = URL(fileURLWithPath: #filePath)
        func checks(_ file: String) throws -> Set<String> {
            let text = try String(contentsOf: here.deletingLastPathComponent().appendingPathComponent(file), encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: #"try await suite\.([A-Za-z0-9_]+)\(\)"#)
            return Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range(at: 1), in: text).map { String(text[$0]) }
            })
        }
        let sqlite = try checks("SQLiteRunStoreConformanceTests.swift")
        let postgres = try checks("PostgresRunStoreConformanceTests.swift")
        XCTAssertGreaterThan(sqlite.count, 20)
        XCTAssertEqual(sqlite.subtracting(postgres), [], "checks the PostgreSQL backend does not run")
        XCTAssertEqual(postgres.subtracting(sqlite), [], "checks the SQLite backend does not run")
    }

    func testCreatedRunReadsBackEveryField() async throws { try await suite.createdRunReadsBackEveryField() }
    func testRetriesOfARunAreItsChildrenNewestFirst() async throws { try await suite.retriesOfARunAreItsChildrenNewestFirst() }
    func testLocksHaveOneLiveHolder() async throws { try await suite.locksHaveOneLiveHolder() }
    func testCountRunsCountsOneStatusUpToItsBound() async throws { try await suite.countRunsCountsOneStatusUpToItsBound() }
    func testLatestRunsAreEachJobsNewest() async throws { try await suite.latestRunsAreEachJobsNewest() }
    func testUnfinishedRunsAreTheJobsRunningAndQueuedOldestFirst() async throws { try await suite.unfinishedRunsAreTheJobsRunningAndQueuedOldestFirst() }
    func testCreateRunsHonoursIdempotencyAndReplayKeys() async throws { try await suite.createRunsHonoursIdempotencyAndReplayKeys() }
    func testCreateRunsForgetsExpiredKeysAndWritesNothingWhenRefused() async throws { try await suite.createRunsForgetsExpiredKeysAndWritesNothingWhenRefused() }
    func testCreateRunRefusesAnExistingId() async throws { try await suite.createRunRefusesAnExistingId() }
    func testRunsAreNewestFirstAndFiltered() async throws { try await suite.runsAreNewestFirstAndFiltered() }
    func testRunsPageFromBeforeNewestFirst() async throws { try await suite.runsPageFromBeforeNewestFirst() }
    func testRequestCancelFlagsUnfinishedRunsOnly() async throws { try await suite.requestCancelFlagsUnfinishedRunsOnly() }
    func testChangeFeedTellsOfCommittedChangesOnly() async throws { try await suite.changeFeedTellsOfCommittedChangesOnly() }
    func testPruneKeepsTheNewestFinishedRunsWithTheirSlicesAndItems() async throws { try await suite.pruneKeepsTheNewestFinishedRunsWithTheirSlicesAndItems() }
    func testStartSliceIsConditionalAndMakesAQueuedRunRunning() async throws { try await suite.startSliceIsConditionalAndMakesAQueuedRunRunning() }
    func testCommitSliceWritesSliceItemsAndProgressTogether() async throws { try await suite.commitSliceWritesSliceItemsAndProgressTogether() }
    func testItemsKeepReportingOrderAndFilterByStatus() async throws { try await suite.itemsKeepReportingOrderAndFilterByStatus() }
    func testMarkSliceLostMarksTheRunningSliceAndMovesToTheNextAttempt() async throws { try await suite.markSliceLostMarksTheRunningSliceAndMovesToTheNextAttempt() }
    func testEndRunReopenAndReleaseAreConditionalOnTheLease() async throws { try await suite.endRunReopenAndReleaseAreConditionalOnTheLease() }
    func testTwoHandlesCommitSlicesConcurrently() async throws { try await suite.twoHandlesCommitSlicesConcurrently() }
    func testClaimRaisesTheEpochAndTakesFreeOwnExpiredOrDeadRunsOnly() async throws { try await suite.claimRaisesTheEpochAndTakesFreeOwnExpiredOrDeadRunsOnly() }
    func testEveryWriteOfAStaleOwnerIsRefused() async throws { try await suite.everyWriteOfAStaleOwnerIsRefused() }
    func testAStartRightAfterATakeoverIsRefused() async throws { try await suite.aStartRightAfterATakeoverIsRefused() }
    func testConcurrentCommitsOnOneHandleEachGetTheirOwnAnswer() async throws { try await suite.concurrentCommitsOnOneHandleEachGetTheirOwnAnswer() }
    func testTakeoverWhileASliceIsInFlight() async throws { try await suite.takeoverWhileASliceIsInFlight() }
    func testTwoHandlesRaceForOneExpiredLease() async throws { try await suite.twoHandlesRaceForOneExpiredLease() }
    func testTwoHandlesRaceForOneFire() async throws { try await suite.twoHandlesRaceForOneFire() }
    func testTwoHandlesRaceForOneLock() async throws { try await suite.twoHandlesRaceForOneLock() }
    func testRememberRequestRefusesAReplayUntilItExpires() async throws { try await suite.rememberRequestRefusesAReplayUntilItExpires() }
    func testWatchNamesCancelledAndLostRuns() async throws { try await suite.watchNamesCancelledAndLostRuns() }
    func testJobsWithUnfinishedRunsNamesEachOnce() async throws { try await suite.jobsWithUnfinishedRunsNamesEachOnce() }
    func testUnfinishedRunsOfSeveralJobsAreEachJobsOldest() async throws { try await suite.unfinishedRunsOfSeveralJobsAreEachJobsOldest() }
    func testJobStatesAfterAVersionAreTheChangesSince() async throws { try await suite.jobStatesAfterAVersionAreTheChangesSince() }
    func testHeartbeatsListTheLiveDaemons() async throws { try await suite.heartbeatsListTheLiveDaemons() }
}
