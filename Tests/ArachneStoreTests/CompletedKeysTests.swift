import ArachneCore
import Testing

@testable import ArachneStore

@Suite("CompletedKeys")
struct CompletedKeysTests {
    @Test("inserts, counts and answers membership by (url, repetition)")
    func membership() {
        var keys = CompletedKeys(urlCount: 5, repeatCount: 3)
        #expect(keys.total == 15)
        #expect(keys.count == 0)
        let inserted = [
            keys.insert(RequestKey(urlIndex: 4, repetition: 2)), keys.insert(RequestKey(urlIndex: 0, repetition: 1)),
            keys.insert(RequestKey(urlIndex: 4, repetition: 2)),
        ]
        #expect(inserted == [true, true, false], "the second insert of a key is not new")
        #expect(keys.count == 2)
        #expect(keys.contains(RequestKey(urlIndex: 4, repetition: 2)))
        #expect(!keys.contains(RequestKey(urlIndex: 2, repetition: 1)))
        #expect(!keys.contains(RequestKey(urlIndex: 5, repetition: 0)), "outside the job")
        #expect(!keys.contains(RequestKey(urlIndex: 0, repetition: 3)), "outside the job")
        #expect(!keys.contains(RequestKey(urlIndex: -1, repetition: 0)), "outside the job")
        #expect(!keys.isComplete)
    }

    @Test("lists missing keys in key order across word boundaries")
    func missing() {
        var keys = CompletedKeys(urlCount: 70, repeatCount: 2)  // 140 keys: three 64-bit words, the last partial
        for urlIndex in 0..<70 where urlIndex != 33 && urlIndex != 69 {
            for repetition in 0..<2 { keys.insert(RequestKey(urlIndex: urlIndex, repetition: repetition)) }
        }
        keys.insert(RequestKey(urlIndex: 69, repetition: 0))
        #expect(Array(keys.missingKeys) == [
            RequestKey(urlIndex: 33, repetition: 0), RequestKey(urlIndex: 33, repetition: 1),
            RequestKey(urlIndex: 69, repetition: 1),
        ])
        for key in Array(keys.missingKeys) { keys.insert(key) }
        #expect(keys.isComplete)
        #expect(Array(keys.missingKeys).isEmpty)
        #expect(Array(CompletedKeys(urlCount: 2, repeatCount: 1).missingKeys).count == 2)
        #expect(Array(CompletedKeys(urlCount: 0, repeatCount: 1).missingKeys).isEmpty)
    }
}
