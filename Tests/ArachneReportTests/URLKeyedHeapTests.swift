import ArachneTestSupport
import Testing

@testable import ArachneReport

/// `URLKeyedHeap`, the storage of the report's URL tables, against a plain sorted list: inserts, root replacements
/// and in-place updates in a seeded random order keep the root the lowest entry and every URL findable.
@Suite("URLKeyedHeap")
struct URLKeyedHeapTests {
    private struct Score: URLKeyedHeapEntry {
        var url: String
        var value: Int

        var heapURL: String { url }

        static func ranksBelow(_ a: Score, _ b: Score) -> Bool {
            a.value != b.value ? a.value < b.value : a.url > b.url
        }
    }

    @Test func randomInsertsReplacementsAndUpdatesKeepTheOrder() {
        var generator = SeededGenerator(seed: 42)
        var heap = URLKeyedHeap<Score>()
        var model: [String: Int] = [:]
        for step in 0..<5_000 {
            let url = "u\(generator.next() % 300)"
            let value = Int(generator.next() % 1_000)
            if model[url] != nil {
                heap.update(url) { $0.value += value }
                model[url, default: 0] += value
            } else if heap.count < 100 {
                heap.insert(Score(url: url, value: value))
                model[url] = value
            } else if let root = heap.root {
                heap.replaceRoot(with: Score(url: url, value: value))
                model[root.url] = nil
                model[url] = value
            }
            let lowest = model.map { Score(url: $0.key, value: $0.value) }.min(by: Score.ranksBelow)
            #expect(heap.root == lowest, "step \(step)")
        }
        #expect(heap.count == model.count)
        for (url, value) in model { #expect(heap.entry(for: url)?.value == value) }
        let rebuilt = URLKeyedHeap(heap.entries.shuffled(using: &generator))
        #expect(rebuilt.root == heap.root)
        #expect(Set(rebuilt.entries) == Set(heap.entries))
    }
}
