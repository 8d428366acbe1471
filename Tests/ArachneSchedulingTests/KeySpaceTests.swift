import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneScheduling

@Suite("Key space and bitmap")
struct KeySpaceTests {
    @Test("indices map to keys repetition-major and back")
    func mapping() {
        let space = KeySpace(urlCount: 3, repeatCount: 2)
        #expect(space.total == 6)
        #expect((0..<6).map(space.key(at:)) == [
            RequestKey(urlIndex: 0, repetition: 0), RequestKey(urlIndex: 1, repetition: 0),
            RequestKey(urlIndex: 2, repetition: 0), RequestKey(urlIndex: 0, repetition: 1),
            RequestKey(urlIndex: 1, repetition: 1), RequestKey(urlIndex: 2, repetition: 1),
        ])
        for index in 0..<6 { #expect(space.index(of: space.key(at: index)) == index) }
        #expect(space.index(of: RequestKey(urlIndex: 3, repetition: 0)) == nil)
        #expect(space.index(of: RequestKey(urlIndex: 0, repetition: -1)) == nil)
    }

    @Test("firstClear skips set bits across word boundaries and respects the end")
    func firstClear() {
        var bitmap = KeyBitmap(count: 200)
        for index in 0..<130 { bitmap.insert(index) }
        #expect(bitmap.firstClear(from: 0, below: 200) == 130)
        #expect(bitmap.firstClear(from: 131, below: 200) == 131)
        #expect(bitmap.firstClear(from: 0, below: 130) == nil)
        for index in 130..<200 { bitmap.insert(index) }
        #expect(bitmap.firstClear(from: 0, below: 200) == nil)
        let insertedAgain = bitmap.insert(5)
        #expect(!insertedAgain)
    }

    @Test("countSet counts exactly inside any range", arguments: [0, 1, 63, 64, 65, 127, 128, 300])
    func countSet(start: Int) {
        var bitmap = KeyBitmap(count: 400)
        var rng = SeededGenerator(seed: UInt64(start))
        var set: Set<Int> = []
        for _ in 0..<150 {
            let index = Int.random(in: 0..<400, using: &rng)
            bitmap.insert(index)
            set.insert(index)
        }
        for end in [start, start + 1, start + 64, 400] where end <= 400 {
            #expect(bitmap.countSet(in: start..<end) == set.filter { (start..<end).contains($0) }.count)
        }
    }
}
