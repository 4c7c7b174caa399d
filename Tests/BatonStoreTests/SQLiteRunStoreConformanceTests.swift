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
