import BatonCore
import XCTest

/// Seeded random expressions against a brute-force scan of every day and minute,
/// written from the SPEC's wording and not from the engine. The seed is printed on
/// failure; set BATON_TEST_SEED to replay it.
final class CronPropertyTests: XCTestCase {
    struct Spec {
        var minutes: Set<Int>, hours: Set<Int>, doms: Set<Int>, months: Set<Int>, dows: Set<Int>
        var domText: String, dowText: String, last = false, lastWeekday = false, nearest: Int? = nil, lastDow: Int? = nil, nth: (Int, Int)? = nil
        var text: String
    }

    func testAgreesWithBruteForceScanInUTC() throws {
        let seed = ProcessInfo.processInfo.environment["BATON_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max / 2)
        var rng = SplitMix(seed: seed)
        for _ in 0..<400 {
            let spec = randomSpec(&rng)
            let from = Int64(rng.next() % (86_400 * 365 * 200)) - 2_208_988_800  // 1900-2100
            let want = bruteForce(spec, after: from, count: 3)
            guard let schedule = try? Schedule(spec.text) else {
                // Refused as never firing: the scan must agree that nothing fires.
                XCTAssertEqual(want, [], "'\(spec.text)' was refused but fires; replay with BATON_TEST_SEED=\(seed)")
                continue
            }
            // The scan looks 60 years ahead; compare within that horizon (a rare
            // expression such as '0 0 * 2 4#5' fires every 28 years, seed 3571141090485812622).
            let horizon = Int64(from >= 0 ? from / 86_400 : (from - 86_399) / 86_400) * 86_400 + Self.horizonDays * 86_400
            let got = schedule.fires(after: from, zone: .utc, count: 3).filter { $0 < horizon }
            XCTAssertEqual(got, want, "'\(spec.text)' from \(from); replay with BATON_TEST_SEED=\(seed)")
            if got != want { return }
        }
    }

    static let horizonDays: Int64 = 366 * 60

    func randomSpec(_ rng: inout SplitMix) -> Spec {
        func pick(_ r: ClosedRange<Int>) -> (Set<Int>, String) {
            switch rng.next() % 4 {
            case 0: return (Set(r), "*")
            case 1:
                let v = r.lowerBound + Int(rng.next() % UInt64(r.count)); return ([v], "\(v)")
            case 2:
                let step = 1 + Int(rng.next() % 7)
                return (Set(stride(from: r.lowerBound, through: r.upperBound, by: step)), "*/\(step)")
            default:
                let a = r.lowerBound + Int(rng.next() % UInt64(r.count))
                let b = a + Int(rng.next() % UInt64(r.upperBound - a + 1))
                return (Set(a...b), "\(a)-\(b)")
            }
        }
        let (mi, miT) = pick(0...59), (h, hT) = pick(0...23), (mo, moT) = pick(1...12)
        var (dom, domT) = pick(1...31)
        var (dow, dowT) = pick(0...6)
        var spec = Spec(minutes: mi, hours: h, doms: dom, months: mo, dows: dow, domText: domT, dowText: dowT, text: "")
        switch rng.next() % 8 {
        case 0: spec.last = true; dom = []; domT = "L"
        case 1: spec.lastWeekday = true; dom = []; domT = "LW"
        case 2: let n = 1 + Int(rng.next() % 31); spec.nearest = n; dom = []; domT = "\(n)W"
        default: break
        }
        switch rng.next() % 8 {
        case 0: let d = Int(rng.next() % 7); spec.lastDow = d; dow = []; dowT = "\(d)L"
        case 1: let d = Int(rng.next() % 7), k = 1 + Int(rng.next() % 5); spec.nth = (d, k); dow = []; dowT = "\(d)#\(k)"
        default: break
        }
        spec.doms = dom; spec.dows = dow; spec.domText = domT; spec.dowText = dowT
        spec.text = "\(miT) \(hT) \(domT) \(moT) \(dowT)"
        // Ask for something that fires: keep day fields satisfiable by widening months.
        if (try? Schedule(spec.text)) == nil { spec.months = Set(1...12); spec.text = "\(miT) \(hT) \(domT) * \(dowT)" }
        return spec
    }

    /// Day by day, then hour and minute: the SPEC's rules, spelled out.
    func bruteForce(_ s: Spec, after: Int64, count: Int) -> [Int64] {
        var out: [Int64] = []
        var day = Int(after >= 0 ? after / 86_400 : (after - 86_399) / 86_400)  // floor, also before 1970
        let limit = day + Int(Self.horizonDays)
        while out.count < count && day < limit {
            let date = CivilTime.date(days: day)
            let length = CivilTime.daysInMonth(year: date.year, month: date.month)
            let wd = CivilTime.weekday(days: day)
            var domMatch = s.doms.contains(date.day) || (s.last && date.day == length)
            if s.lastWeekday {
                var d = length
                while [0, 6].contains(CivilTime.weekday(days: day - date.day + d)) { d -= 1 }
                domMatch = domMatch || date.day == d
            }
            if let n = s.nearest, n <= length {
                let w = CivilTime.weekday(days: day - date.day + n)
                let target = w == 6 ? (n == 1 ? 3 : n - 1) : w == 0 ? (n == length ? n - 2 : n + 1) : n
                domMatch = domMatch || date.day == target
            }
            var dowMatch = s.dows.contains(wd)
            if let d = s.lastDow { dowMatch = dowMatch || (wd == d && date.day + 7 > length) }
            if let (d, k) = s.nth { dowMatch = dowMatch || (wd == d && (date.day + 6) / 7 == k) }
            let and = s.domText.hasPrefix("*") || s.dowText.hasPrefix("*")
            if s.months.contains(date.month) && (and ? domMatch && dowMatch : domMatch || dowMatch) {
                for h in s.hours.sorted() { for m in s.minutes.sorted() {
                    let t = Int64(day) * 86_400 + Int64(h * 3600 + m * 60)
                    if t > after && out.count < count { out.append(t) }
                } }
            }
            day += 1
        }
        return out
    }
}

