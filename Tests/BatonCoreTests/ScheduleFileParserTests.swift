import BatonCore
import XCTest

final class ScheduleFileParserTests: XCTestCase {
    func parse(_ text: String) -> ScheduleFile { ScheduleFileParser(path: "t.cron").parse(text) }

    func testReportsEveryMistakeInTheFileWithItsLocationAndAHint() {
        let file = parse("""
        # five mistakes, one per line
        61 * * * *   too-late      handlers/a
        */5 * * * *  Bad_Name      handlers/b
        @hourly      typo-option   budgte=10s handlers/c
        @daily       bad-duration  budget=10 handlers/d
        @every 5s    no-command    budget=5s
        @hourly      fine          handlers/e
        """)
        let e = file.errors
        XCTAssertEqual(e.count, 5, file.problems.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(e.map(\.at.line), [2, 3, 4, 5, 6])
        XCTAssertEqual(e.map(\.at.column), [1, 14, 28, 37, 37])
        XCTAssertTrue(e[0].message.contains("minute 61 is out of range 0-59"))
        XCTAssertTrue(e[1].message.contains("not a valid job name"))
        XCTAssertEqual(e[2].hint, "did you mean 'budget='?")
        XCTAssertTrue(e[3].message.contains("has no unit"))
        XCTAssertTrue(e[4].message.contains("has no command"))
        XCTAssertTrue(e.allSatisfy { $0.hint != nil })
        XCTAssertEqual(file.jobs.map(\.name), ["fine"])
        XCTAssertTrue(e[0].description.hasPrefix("t.cron:2:1: error: minute 61"))
    }

    func testReadsOptionsEnvironmentZonesAndDefaults() throws {
        let file = parse("""
        CRON_TZ=America/New_York            # zone for the entries below
        APP_DB=sqlite:var/app.db
        */30 * * * *   regenerate-reports  budget=55s overlap=skip   handlers/regenerate-reports --interval 24h
        0 9 * * 1-5    weekday-digest      budget=2m retries=3 deadline=1h on-failure=regenerate-reports ./bin/digest
        @every 15s     send-batches        budget=10s pace=200ms pass-env=A,B_2 lock=twilio mode=plain handlers/send "two words"
        */10 * * * * * fast-poll           budget=5s                 handlers/poll   # 6 fields: seconds first
        CRON_TZ=UTC
        @reboot        warm-up             handlers/warm
        """)
        XCTAssertEqual(file.errors, [])
        XCTAssertEqual(file.jobs.map(\.name), ["regenerate-reports", "weekday-digest", "send-batches", "fast-poll", "warm-up"])
        let j = file.jobs
        XCTAssertEqual(j[0].zone, "America/New_York")
        XCTAssertEqual(j[0].environment, [EnvironmentEntry(key: "APP_DB", value: "sqlite:var/app.db")])
        XCTAssertEqual(j[0].command, ["handlers/regenerate-reports", "--interval", "24h"])
        XCTAssertEqual(j[1].options.retries, 3)
        XCTAssertEqual(j[1].options.budget, .seconds(120))
        XCTAssertEqual(j[1].options.deadline, .seconds(3600))
        XCTAssertEqual(j[1].options.onFailure, "regenerate-reports")
        XCTAssertEqual(j[2].schedule, .every(.seconds(15)))
        XCTAssertEqual(j[2].options.pace, .milliseconds(200))
        XCTAssertEqual(j[2].options.passEnv, ["A", "B_2"])
        XCTAssertEqual(j[2].options.mode, .plain)
        XCTAssertEqual(j[2].command, ["handlers/send", "two words"])
        XCTAssertEqual(j[3].command, ["handlers/poll"])
        guard case let .cron(e, _) = j[3].schedule else { return XCTFail("not cron") }
        XCTAssertTrue(e.hasSeconds)
        XCTAssertEqual(j[4].schedule, .reboot)
        XCTAssertEqual(j[4].zone, "UTC")
        // Defaults of SPEC §2.
        let d = j[4].options
        XCTAssertEqual([d.budget, d.grace, d.backoff, d.pace, d.jitter], [.seconds(55), .seconds(5), .seconds(10), .zero, .zero])
        XCTAssertEqual([d.retries, d.maxSlices, d.history], [3, 10_000, 200])
        XCTAssertEqual(d.overlap, .skip); XCTAssertEqual(d.misfire, .once); XCTAssertEqual(d.mode, .slice)
        XCTAssertEqual(d.webhookSecretEnv, "BATON_WEBHOOK_SECRET")
        XCTAssertNil(d.deadline); XCTAssertNil(d.lock); XCTAssertNil(d.onFailure)
    }

    func testRefusesJobNamesThatAreCronFields() {
        for name in ["mon", "l", "jan-mar", "5"] {
            let file = parse("@hourly \(name) handlers/x")
            XCTAssertEqual(file.errors.count, 1, name)
        }
        XCTAssertTrue(parse("@hourly mon ./x").errors[0].message.contains("also a valid cron field"))
        // As a sixth token it is read as the day-of-week field.
        let six = parse("0 0 * * * mon job ./x")
        XCTAssertEqual(six.jobs.first?.name, "job")
    }

    /// Issue 11.6: a job name that is a cron field turns five fields into six; the error
    /// says so instead of calling the command a bad job name.
    func testANumericJobNameIsReportedAsReadAsASixthField() {
        for (line, word) in [("0 12 * * * 5 /bin/true", "5"), ("0 12 * * * mon ./x", "mon"), ("0 12 * * * 5 backup", "5"),
                             ("0 12 * * * 1-5 budget=5s ./x", "1-5"), ("0 12 * * * 5", "5")] {
            let e = parse(line).errors
            XCTAssertEqual(e.count, 1, e.map(\.description).joined(separator: "\n"))
            XCTAssertEqual(e.first?.at.column, 12, line)
            XCTAssertEqual(e.first?.message.hasPrefix("'\(word)' was read as a sixth time field"), true, e.first?.message ?? line)
            XCTAssertEqual(e.first?.hint?.contains("job-\(word)"), true, e.first?.hint ?? line)
        }
        // A `*` in the sixth place means six fields were meant: the name is at fault.
        let star = parse("0 0 12 * * * Bad_Name ./x").errors
        XCTAssertEqual(star.map(\.message), ["'Bad_Name' is not a valid job name"])
        XCTAssertEqual(parse("0 12 * * * 5 backup ./x").jobs.map(\.name), ["backup"], "six fields and a name: valid")
    }

    func testRefusesDuplicatesUnknownValuesAndRepeatedOptions() {
        let file = parse("""
        @hourly a ./x
        @hourly a ./y
        @hourly b overlap=sometimes ./x
        @hourly c retries=3 retries=4 ./x
        @hourly d retries=-1 ./x
        @hourly e budget=0s ./x
        KEY=has space
        @hourly f "unterminated ./x
        """)
        XCTAssertEqual(file.errors.map(\.at.line), [2, 3, 4, 5, 6, 7, 8], file.problems.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(file.errors[0].message.contains("already defined at t.cron:1:1"))
        XCTAssertTrue(file.errors[1].message.contains("not one of skip, queue, replace, allow"))
    }

    func testNeverTrapsOnArbitraryBytes() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("* /-,#LW@0123456789abcdefmonjan=\"'\\\t\n\r\u{0}é😀")
        for _ in 0..<2000 {
            let text = String((0..<Int(rng.next() % 80)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            _ = parse(text)
            _ = try? Schedule(text)
        }
    }
}
