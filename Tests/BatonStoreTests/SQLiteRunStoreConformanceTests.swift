import BatonStore
import BatonStoreSQLite
import XCTest

/// The RunStore conformance suite on SQLite temp files: each test gets a new file, and
/// each `open` a new connection to it.
final class SQLiteRunStoreConformanceTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var suite: RunStoreConformance!

    override func setUpWithError() throws {
        let directory = try TemporaryDirectory()
        self.directory = directory
        let path = directory.file("baton.db")
        suite = RunStoreConformance(open: { try SQLiteRunStore(path: path) })
    }

    override func tearDown() {
        directory.remove()
    }

    func testCreatedRunReadsBackEveryField() async throws { try await suite.createdRunReadsBackEveryField() }
    func testRetriesOfARunAreItsChildrenNewestFirst() async throws { try await suite.retriesOfARunAreItsChildrenNewestFirst() }
    func testStartSliceMakesAQueuedRunRunning() async throws { try await suite.startSliceMakesAQueuedRunRunning() }
    func testStartQueuedClaimsAndStartsOnlyAQueuedRunNobodyHolds() async throws {
        try await suite.startQueuedClaimsAndStartsOnlyAQueuedRunNobodyHolds()
    }
    func testLocksHaveOneLiveHolder() async throws { try await suite.locksHaveOneLiveHolder() }
    func testLatestRunsAreEachJobsNewest() async throws { try await suite.latestRunsAreEachJobsNewest() }
    func testUnfinishedRunsAreTheJobsRunningAndQueuedOldestFirst() async throws {
        try await suite.unfinishedRunsAreTheJobsRunningAndQueuedOldestFirst()
    }
    func testCreateRunsHonoursIdempotencyAndReplayKeys() async throws { try await suite.createRunsHonoursIdempotencyAndReplayKeys() }
    func testCreateRunsForgetsExpiredKeysAndWritesNothingWhenRefused() async throws {
        try await suite.createRunsForgetsExpiredKeysAndWritesNothingWhenRefused()
    }
    func testUpdateRunReplacesEveryMutableField() async throws { try await suite.updateRunReplacesEveryMutableField() }
    func testCreateRunRefusesAnExistingId() async throws { try await suite.createRunRefusesAnExistingId() }
    func testUpdateRunOfAnUnknownRunIsNotFound() async throws { try await suite.updateRunOfAnUnknownRunIsNotFound() }
    func testRunsAreNewestFirstAndFiltered() async throws { try await suite.runsAreNewestFirstAndFiltered() }
    func testRunsPageFromBeforeNewestFirst() async throws { try await suite.runsPageFromBeforeNewestFirst() }
    func testRequestCancelFlagsUnfinishedRunsOnly() async throws { try await suite.requestCancelFlagsUnfinishedRunsOnly() }
    func testClaimTakesFreeOwnOrExpiredRunsOnly() async throws { try await suite.claimTakesFreeOwnOrExpiredRunsOnly() }
    func testPruneKeepsTheNewestFinishedRunsWithTheirSlicesAndItems() async throws {
        try await suite.pruneKeepsTheNewestFinishedRunsWithTheirSlicesAndItems()
    }
    func testStartSliceIsIdempotentAndRenewsOwnerAndLease() async throws {
        try await suite.startSliceIsIdempotentAndRenewsOwnerAndLease()
    }
    func testFinishSliceCommitsSliceItemsAndRunTogether() async throws {
        try await suite.finishSliceCommitsSliceItemsAndRunTogether()
    }
    func testFinishSliceOfAnUnknownRunLeavesNothingBehind() async throws {
        try await suite.finishSliceOfAnUnknownRunLeavesNothingBehind()
    }
    func testFinishSliceFailingMidwayLeavesNothingBehind() async throws {
        try await suite.finishSliceFailingMidwayLeavesNothingBehind()
    }
    func testFinishSliceKeepsACancelRequestedWhileTheSliceRan() async throws {
        try await suite.finishSliceKeepsACancelRequestedWhileTheSliceRan()
    }
    func testItemsKeepReportingOrderAndFilterByStatus() async throws { try await suite.itemsKeepReportingOrderAndFilterByStatus() }
    func testMarkSliceLostMarksTheRunningSliceAndWritesTheRun() async throws {
        try await suite.markSliceLostMarksTheRunningSliceAndWritesTheRun()
    }
    func testMarkSliceLostRefusesASliceThatIsNotRunning() async throws {
        try await suite.markSliceLostRefusesASliceThatIsNotRunning()
    }
    func testTwoHandlesCommitSlicesConcurrently() async throws { try await suite.twoHandlesCommitSlicesConcurrently() }
    func testConcurrentClaimsGiveEachRunOneOwner() async throws { try await suite.concurrentClaimsGiveEachRunOneOwner() }
    func testJobsWithUnfinishedRunsNamesEachOnce() async throws { try await suite.jobsWithUnfinishedRunsNamesEachOnce() }
    func testUnfinishedRunsOfSeveralJobsAreEachJobsOldest() async throws { try await suite.unfinishedRunsOfSeveralJobsAreEachJobsOldest() }
    func testJobStatesAfterAVersionAreTheChangesSince() async throws { try await suite.jobStatesAfterAVersionAreTheChangesSince() }
}
