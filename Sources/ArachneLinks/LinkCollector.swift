/// The elements that matter for links. libxml2 reports tag names in lower case.
enum ElementKind: Equatable {
    case a, area, frame, iframe, base, meta, template, other

    /// The lower-case tag name of a link element.
    var name: String {
        switch self {
        case .a: "a"
        case .area: "area"
        case .frame: "frame"
        case .iframe: "iframe"
        case .base: "base"
        case .meta: "meta"
        case .template: "template"
        case .other: ""
        }
    }
}

/// The rules for which tags yield links, applied to a stream of start and end tags, apart from libxml2's callbacks.
///
/// Links inside `<template>` (nested or not) are inert, as in the HTML Standard; libxml2 2.9 does not know the
/// element, so its nesting depth is tracked here. Links inside `<noscript>` count: a crawler runs no script, and
/// libxml2 parses noscript content as markup, as the HTML Standard does with scripting disabled.
struct LinkCollector {
    let linkCap: Int
    private(set) var page = PageLinks()
    private var templateDepth = 0

    init(linkCap: Int) {
        self.linkCap = linkCap
    }

    /// The cap was exceeded: nothing more will be collected, and the parser can stop.
    var isFull: Bool { page.truncatedAtLinkCap }

    /// A start tag. `attribute(name)` returns the value of the lower-case attribute `name`: nil when absent, "" when
    /// present without a value.
    mutating func start(_ kind: ElementKind, line: Int, attribute: (StaticString) -> String?) {
        switch kind {
        case .other:
            return
        case .template:
            templateDepth += 1
            return
        default:
            guard templateDepth == 0, !isFull else { return }
        }
        switch kind {
        case .a, .area, .frame, .iframe:
            let isAnchor = kind == .a || kind == .area
            guard let href = attribute(isAnchor ? "href" : "src") else { return }
            guard page.links.count < linkCap else {
                page.truncatedAtLinkCap = true
                return
            }
            let nofollow = isAnchor && (attribute("rel").map(Self.containsNofollow) ?? false)
            page.links.append(PageLinks.Link(href: href, element: kind.name, nofollow: nofollow, line: line))
        case .base:
            if page.baseHref == nil, let href = attribute("href") { page.baseHref = href }
        case .meta:
            guard let name = attribute("name"), RobotsDirectives.equalsIgnoringCase(name[...], "robots"),
                let content = attribute("content")
            else { return }
            page.robots.formUnion(RobotsDirectives(metaContent: content))
        case .template, .other:
            return
        }
    }

    /// An end tag, reported by libxml2 also for elements it closes implicitly.
    mutating func end(_ kind: ElementKind) {
        if kind == .template, templateDepth > 0 { templateDepth -= 1 }
    }

    /// `rel` is a set of ASCII-whitespace-separated tokens, compared ASCII case-insensitively.
    static func containsNofollow(_ rel: String) -> Bool {
        rel.split(whereSeparator: RobotsDirectives.isSpace).contains {
            RobotsDirectives.equalsIgnoringCase($0, "nofollow")
        }
    }
}
