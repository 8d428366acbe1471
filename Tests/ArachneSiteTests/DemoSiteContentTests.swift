@testable import ArachneSite
import Testing

@Suite struct DemoSiteContentTests {
    @Test func everyPageLinksToFiveOtherPagesStartingWithTheNext() {
        for n in 0..<DemoSite.defaultPageCount {
            let links = DemoSite.pageLinks(n)
            #expect(links.count == 5)
            #expect(Set(links).count == 5)
            #expect(!links.contains(n))
            #expect(links[0] == (n + 1) % DemoSite.defaultPageCount)
            #expect(links.allSatisfy { (0..<DemoSite.defaultPageCount).contains($0) })
        }
        #expect(DemoSite.pageLinks(3) == DemoSite.pageLinks(3))
        #expect(DemoSite.pageLinks(3) != DemoSite.pageLinks(4))
    }

    @Test func pagesAreDeterministicHTMLWithTheirLinks() {
        let html = DemoSite.pageHTML(42)
        #expect(html == DemoSite.pageHTML(42))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<title>Arachne demo page 42</title>"))
        for link in DemoSite.pageLinks(42) {
            #expect(html.contains("<a href=\"/page/\(link)\">"))
        }
        #expect(DemoSite.indexHTML.contains("<a href=\"/page/0\">"))
        #expect(DemoSite.indexHTML.contains("<a href=\"/page/\(DemoSite.indexLinkCount - 1)\">"))
    }

    @Test func bodyIsTheBase64AlphabetRepeated() {
        let body = DemoSite.body(count: 130)
        #expect(String(decoding: body[0..<64], as: UTF8.self)
                == "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        #expect(body[64] == UInt8(ascii: "A"))
        #expect(body[129] == UInt8(ascii: "B"))
        var appended: [UInt8] = []
        appended.appendPattern(position: 0, count: 200_000)
        #expect(appended == DemoSite.body(count: 200_000))
    }

    @Test func chunkSizesSplitSmallBodiesInFour() {
        #expect(DemoSite.chunkSize(forBodyOf: 0) == 1)
        #expect(DemoSite.chunkSize(forBodyOf: 10) == 3)
        #expect(DemoSite.chunkSize(forBodyOf: 4096) == 1024)
        #expect(DemoSite.chunkSize(forBodyOf: 10_000_000) == 16 * 1024)
    }

    @Test func numbersAreFormattedWithoutFoundation() {
        for value in [0, 7, 10, 99, 100, 65535, 1 << 30, Int.max] {
            var decimal: [UInt8] = []
            decimal.appendDecimal(value)
            #expect(String(decoding: decimal, as: UTF8.self) == String(value))
            var hex: [UInt8] = []
            hex.appendHex(value)
            #expect(String(decoding: hex, as: UTF8.self) == String(value, radix: 16))
        }
    }
}
