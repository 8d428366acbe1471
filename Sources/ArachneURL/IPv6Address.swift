/// An IPv6 address as the URL Standard parses and serializes it: eight 16-bit pieces, "::" compression, and an
/// IPv4 form in the last 32 bits ("::ffff:1.2.3.4"). Serializing compresses the first longest run of two or more
/// zero pieces and never writes the IPv4 form.
struct IPv6Address {
    var pieces: [UInt16] = Array(repeating: 0, count: 8)

    static func parse(_ input: ArraySlice<UInt8>) throws(URLParseError) -> IPv6Address {
        var address = IPv6Address()
        var pieceIndex = 0
        var compress: Int? = nil
        var pointer = input.startIndex
        let end = input.endIndex
        func at(_ index: Int) -> Int { index < end ? Int(input[index]) : -1 }
        let invalid = URLParseError(.ipv6Invalid)

        if at(pointer) == 0x3A {
            guard at(pointer + 1) == 0x3A else { throw invalid }
            pointer += 2
            pieceIndex += 1
            compress = pieceIndex
        }
        while at(pointer) != -1 {
            guard pieceIndex != 8 else { throw invalid }
            if at(pointer) == 0x3A {
                guard compress == nil else { throw invalid }
                pointer += 1
                pieceIndex += 1
                compress = pieceIndex
                continue
            }
            var value = 0
            var length = 0
            while length < 4, let digit = hexValue(UInt8(truncatingIfNeeded: at(pointer))), at(pointer) != -1 {
                value = value * 0x10 + Int(digit)
                pointer += 1
                length += 1
            }
            if at(pointer) == 0x2E {
                guard length != 0 else { throw invalid }
                pointer -= length
                guard pieceIndex <= 6 else { throw invalid }
                var numbersSeen = 0
                while at(pointer) != -1 {
                    var ipv4Piece: Int? = nil
                    if numbersSeen > 0 {
                        guard at(pointer) == 0x2E, numbersSeen < 4 else { throw invalid }
                        pointer += 1
                    }
                    guard isASCIIDigit(at(pointer)) else { throw invalid }
                    while isASCIIDigit(at(pointer)) {
                        let number = at(pointer) - 0x30
                        if ipv4Piece == nil {
                            ipv4Piece = number
                        } else if ipv4Piece == 0 {
                            throw invalid
                        } else {
                            ipv4Piece = ipv4Piece! * 10 + number
                        }
                        guard ipv4Piece! <= 255 else { throw invalid }
                        pointer += 1
                    }
                    address.pieces[pieceIndex] = address.pieces[pieceIndex] &* 0x100 &+ UInt16(ipv4Piece!)
                    numbersSeen += 1
                    if numbersSeen == 2 || numbersSeen == 4 { pieceIndex += 1 }
                }
                guard numbersSeen == 4 else { throw invalid }
                break
            } else if at(pointer) == 0x3A {
                pointer += 1
                guard at(pointer) != -1 else { throw invalid }
            } else if at(pointer) != -1 {
                throw invalid
            }
            address.pieces[pieceIndex] = UInt16(value)
            pieceIndex += 1
        }
        if let compress {
            var swaps = pieceIndex - compress
            pieceIndex = 7
            while pieceIndex != 0 && swaps > 0 {
                address.pieces.swapAt(pieceIndex, compress + swaps - 1)
                pieceIndex -= 1
                swaps -= 1
            }
        } else if pieceIndex != 8 {
            throw invalid
        }
        return address
    }

    /// Lower-case hex pieces joined by ":", the first longest run (of at least two) of zero pieces written as "::".
    func serialized() -> [UInt8] {
        var compress: Int? = nil
        var longest = 1
        var index = 0
        while index < 8 {
            if pieces[index] == 0 {
                var runEnd = index
                while runEnd < 8, pieces[runEnd] == 0 { runEnd += 1 }
                if runEnd - index > longest {
                    longest = runEnd - index
                    compress = index
                }
                index = runEnd
            } else {
                index += 1
            }
        }
        var output: [UInt8] = []
        var ignore0 = false
        for index in 0..<8 {
            if ignore0 && pieces[index] == 0 { continue }
            ignore0 = false
            if compress == index {
                output += index == 0 ? [0x3A, 0x3A] : [0x3A]
                ignore0 = true
                continue
            }
            output += Array(String(pieces[index], radix: 16).utf8)
            if index != 7 { output.append(0x3A) }
        }
        return output
    }
}
