import BatonConfig
import BatonCore
import Foundation

/// In-process measurement for bench/cron-next: for each "EXPRESSION<TAB>ZONE" line of
/// the list, `fires` successive next-fire evaluations from 2026-01-01T00:00:00Z;
/// the whole list is timed five times and the median printed as one JSON line.
let args = CommandLine.arguments
guard args.count >= 2, let text = try? String(contentsOfFile: args[1], encoding: .utf8) else {
    FileHandle.standardError.write(Data("usage: BenchCronNext EXPRESSIONS.txt [FIRES]\n".utf8))
    exit(2)
}
let fires = args.count > 2 ? Int(args[2]) ?? 1000 : 1000
var work: [(Schedule, ZoneRules)] = []
for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.allSatisfy(\.isWhitespace) {
    let cols = line.split(separator: "\t")
    do {
        work.append((try Schedule(String(cols[0])), try ZoneDatabase.shared.zone(cols.count > 1 ? String(cols[1]) : "UTC")))
    } catch {
        FileHandle.standardError.write(Data("BenchCronNext: \(line): \(error)\n".utf8))
        exit(2)
    }
}
let start: Int64 = 1_767_225_600  // 2026-01-01T00:00:00Z
var checksum: Int64 = 0
var times: [Double] = []
for _ in 0..<5 {
    let t0 = DispatchTime.now().uptimeNanoseconds
    for (schedule, zone) in work {
        guard case let .cron(e, _) = schedule else { continue }
        var it = CronIterator(e, zone: zone, after: start)
        for _ in 0..<fires { checksum &+= it.next() ?? 0 }
    }
    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
}
times.sort()
let median = times[2]
let evaluations = work.count * fires
print("{\"evaluations\": \(evaluations), \"seconds\": \(median), \"per_second\": \(Double(evaluations) / median), \"median_of\": 5, \"checksum\": \(checksum)}")
