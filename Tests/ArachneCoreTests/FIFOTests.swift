import ArachneCore
import Testing

@Suite struct FIFOTests {
    @Test func elementsComeOutInTheOrderTheyWentIn() {
        var queue = FIFO<Int>()
        #expect(queue.isEmpty && queue.popFirst() == nil)
        queue.append(1)
        queue.append(contentsOf: [2, 3])
        #expect(queue.count == 3)
        #expect(queue.popFirst() == 1)
        queue.append(4)
        #expect([queue.popFirst(), queue.popFirst(), queue.popFirst(), queue.popFirst()] == [2, 3, 4, nil])
        #expect(queue.isEmpty)
    }

    @Test func aLongQueueStaysInOrderAcrossCompactions() {
        var queue = FIFO<Int>()
        var expected = 0
        for next in 0..<20_000 {
            queue.append(next)
            // Pop two for every three pushed: the head passes the compaction threshold many times.
            if next % 3 != 0, let first = queue.popFirst() {
                #expect(first == expected)
                expected += 1
            }
        }
        while let first = queue.popFirst() {
            #expect(first == expected)
            expected += 1
        }
        #expect(expected == 20_000)
    }

    @Test func removingKeepsTheOthersInOrder() {
        var queue = FIFO<Int>()
        queue.append(contentsOf: 0..<10)
        _ = queue.popFirst()
        queue.removeAll { $0 % 2 == 0 }
        #expect(queue.count == 5)
        var rest: [Int] = []
        while let next = queue.popFirst() { rest.append(next) }
        #expect(rest == [1, 3, 5, 7, 9])
    }
}
