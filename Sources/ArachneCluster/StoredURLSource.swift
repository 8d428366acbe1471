import ArachneCore
import ArachneStore
import Dispatch
import Foundation
import Synchronization

/// The URLs of a job whose list is kept on disk — a chunked submission's in the store, a `--url-file` of `run` or
/// `fetch` in place — served by key index in windows, so the process holds a few windows of a job's URLs, never the
/// whole list.
///
/// Keys are handed out in index order from a cursor (repetition-major), so lookups move forward: a lookup past the
/// current window makes the next one current and reads the one after it ahead, on a queue of its own. A lookup
/// behind the windows kept is one read of its own; the coordinator keeps the URLs of leased keys until their records
/// are written (`ActiveJob`), so results, re-leases and lost keys do not come here. Lookups come from one thread
/// (the coordinator's loop, or `fetch`'s), the read-ahead from its queue: one reader each.
final class StoredURLSource: Sendable {
    /// URLs per window.
    static let windowSize = 8192
    /// Windows kept behind the newest one asked for (results arrive a little after their leases).
    static let windowsBehind = 2

    private let urlCount: Int
    private let windowsPerPass: Int
    /// Windows over the whole job: `windowsPerPass` per repetition.
    private let windowCount: Int
    private let windows = Mutex<Windows>(Windows())
    private let loopReader: ReaderBox
    private let aheadReader: ReaderBox
    private let ahead = DispatchQueue(label: "arachne-url-window")
    private let describe: String

    private struct Windows {
        var loaded: [Int: [String]] = [:]
        var newest = -1
        var loading: Set<Int> = []
    }

    /// A reader carried to its one thread.
    private final class ReaderBox: @unchecked Sendable {
        // Safety: `loopReader` is used only on the thread that looks URLs up; `aheadReader` only on `ahead`.
        let reader: any URLWindowReader
        init(_ reader: any URLWindowReader) { self.reader = reader }
        deinit { reader.close() }
    }

    /// Opens list `list` of the store in `dataDirectory`: `urlCount` URLs, fetched `repeatCount` times.
    convenience init(dataDirectory: String, list: Int64, urlCount: Int, repeatCount: Int, job: String) throws {
        try self.init(urlCount: urlCount, repeatCount: repeatCount, job: job) {
            try URLListReader(dataDirectory: dataDirectory, list: list)
        }
    }

    /// `urlCount` URLs, fetched `repeatCount` times, read through two readers made by `openReader` (one for the
    /// thread that looks URLs up, one for the read-ahead; a reader safe on any thread may be returned twice).
    init(urlCount: Int, repeatCount: Int, job: String, openReader: () throws -> any URLWindowReader) throws {
        self.urlCount = urlCount
        windowsPerPass = (urlCount + Self.windowSize - 1) / Self.windowSize
        windowCount = windowsPerPass * repeatCount
        loopReader = ReaderBox(try openReader())
        aheadReader = ReaderBox(try openReader())
        describe = "job \(job)"
        // The first window is read here, on the caller's thread, and the second ahead: the loop's first leases
        // then find their URLs in memory instead of reading on the loop.
        if windowCount > 0 {
            let first = read(0, with: loopReader)
            windows.withLock { $0.loaded[0] = first }
            advance(to: 0)
        }
    }

    /// The URL of URL index `index` (0..<urlCount) for its `repetition`: windows follow the cursor, which goes
    /// through every URL once per repetition. On the lookup thread.
    func url(at index: Int, repetition: Int) -> String {
        precondition((0..<urlCount).contains(index), "URL index \(index) outside the \(urlCount) URLs of \(describe)")
        let window = repetition * windowsPerPass + index / Self.windowSize
        let offset = index % Self.windowSize
        let (found, newest) = windows.withLock { state -> (String?, Int) in
            (state.loaded[window].map { $0[offset] }, state.newest)
        }
        if let found {
            if window > newest { advance(to: window) }
            return found
        }
        if window >= newest - Self.windowsBehind {
            // At or ahead of the cursor, and not read ahead in time: read the window here.
            let urls = read(window, with: loopReader)
            windows.withLock { $0.loaded[window] = urls }
            advance(to: max(window, newest))
            return urls[offset]
        }
        // Far behind the cursor (rare: see the type's documentation): one URL.
        return (try? loopReader.reader.urls(index..<(index + 1)).first) ?? ""
    }

    /// Makes `window` the newest: forgets windows too far behind and reads the next one ahead.
    private func advance(to window: Int) {
        let next = window + 1
        let start = windows.withLock { state -> Bool in
            if window > state.newest { state.newest = window }
            for old in state.loaded.keys where old < state.newest - Self.windowsBehind { state.loaded[old] = nil }
            guard next < windowCount, state.loaded[next] == nil, !state.loading.contains(next) else {
                return false
            }
            state.loading.insert(next)
            return true
        }
        guard start else { return }
        ahead.async { [self] in
            let urls = read(next, with: aheadReader)
            windows.withLock { state in
                state.loading.remove(next)
                if next >= state.newest - Self.windowsBehind { state.loaded[next] = urls }
            }
        }
    }

    private func read(_ window: Int, with box: ReaderBox) -> [String] {
        let start = (window % windowsPerPass) * Self.windowSize
        let range = start..<min(urlCount, start + Self.windowSize)
        // A list the store cannot give back whole: the missing URLs fail as unfetchable (an empty URL), so every key
        // still ends with its record.
        var urls = (try? box.reader.urls(range)) ?? []
        if urls.count < range.count { urls += Array(repeating: "", count: range.count - urls.count) }
        return urls
    }
}
