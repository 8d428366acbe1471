import Testing

@testable import ArachneLinks

@Suite("RobotsDirectives")
struct RobotsDirectivesTests {
    @Test(
        "meta robots content",
        arguments: [
            ("nofollow", true, false),
            ("NoIndex, NoFollow", true, true),
            ("noindex,follow", false, true),
            ("none", true, true),
            ("NONE", true, true),
            ("index, follow", false, false),
            ("all", false, false),
            ("noindex nofollow", true, true),
            (" , nofollow , ", true, false),
            ("nofollowing, no-index", false, false),
            ("max-snippet:20, nofollow", true, false),
            ("", false, false),
        ])
    func metaContent(content: String, nofollow: Bool, noindex: Bool) {
        #expect(RobotsDirectives(metaContent: content) == RobotsDirectives(nofollow: nofollow, noindex: noindex))
    }

    @Test(
        "meta robots in pages",
        arguments: [
            ("<meta name=robots content=nofollow>", true, false),
            ("<META NAME=ROBOTS CONTENT='NOINDEX'>", false, true),
            ("<meta name=Robots content=none>", true, true),
            ("<meta name=robots content=noindex><meta name=robots content=nofollow>", true, true),
            ("<meta name=googlebot content=nofollow>", false, false),
            ("<meta name=' robots' content=nofollow>", false, false),
            ("<meta name=robots>", false, false),
            ("<meta content=nofollow>", false, false),
            ("<template><meta name=robots content=none></template>", false, false),
            ("<!-- <meta name=robots content=none> -->", false, false),
            ("<body><p>late <meta name=robots content=nofollow>", true, false),
        ])
    func metaInPages(html: String, nofollow: Bool, noindex: Bool) {
        #expect(extract(html).robots == RobotsDirectives(nofollow: nofollow, noindex: noindex))
    }

    @Test("a nofollow page has no followable links")
    func followable() {
        let page = extract("<meta name=robots content=nofollow><a href=1>")
        #expect(page.links.count == 1)
        #expect(page.followableLinks.isEmpty)
        #expect(extract("<a href=1 rel=nofollow></a><a href=2>").followableLinks.map(\.href) == ["2"])
    }

    @Test(
        "X-Robots-Tag values for agent 'arachne'",
        arguments: [
            (["nofollow"], true, false),
            (["noindex, nofollow"], true, true),
            (["none"], true, true),
            (["NoIndex"], false, true),
            (["arachne: nofollow"], true, false),
            (["Arachne: noindex, nofollow"], true, true),
            (["googlebot: nofollow"], false, false),
            (["googlebot: noindex, nofollow", "arachne: none"], true, true),
            (["noindex, googlebot: nofollow"], false, true),
            (["googlebot: nofollow, arachne: noindex"], false, true),
            (["googlebot: nofollow", "noindex"], false, true),
            (["unavailable_after: 25 Jun 2010 15:00:00 PST, nofollow"], true, false),
            (["max-snippet: 20, max-image-preview: large"], false, false),
            (["arachne: max-snippet: 20, noindex"], false, true),
            (["all"], false, false),
            ([], false, false),
            ([""], false, false),
        ])
    func xRobotsTag(values: [String], nofollow: Bool, noindex: Bool) {
        #expect(
            RobotsDirectives(xRobotsTag: values, agent: "arachne")
                == RobotsDirectives(nofollow: nofollow, noindex: noindex))
    }

    @Test("directives union")
    func union() {
        var directives = RobotsDirectives(nofollow: true)
        directives.formUnion(RobotsDirectives(noindex: true))
        #expect(directives == RobotsDirectives(nofollow: true, noindex: true))
    }
}
