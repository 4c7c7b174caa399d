/// A binary min-heap of (next fire, job name): the earliest fire is always on top,
/// so the scheduler sleeps until exactly then however many jobs it holds.
struct FireHeap {
    struct Entry { var at: Int64; var job: String }
    private(set) var items: [Entry] = []

    var top: Entry? { items.first }
    var count: Int { items.count }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].at < items[parent].at else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let e = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l].at < items[m].at { m = l }
            if r < items.count, items[r].at < items[m].at { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return e
    }

    mutating func removeAll() { items.removeAll() }
}
