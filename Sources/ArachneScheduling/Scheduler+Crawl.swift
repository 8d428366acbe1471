extension Scheduler {
    /// A crawl's frontier admitted URLs: the job now has `urlCount` keys (it never shrinks). Of the new keys, those in
    /// `terminal` already have their record (skipped by a limit or trap rule, written with them); every other one is
    /// in `hosts` with its host, and is leased to the worker holding that host — or ends as `cancelled` at once when
    /// the job is being cancelled. `settled` accepted results have had their discoveries admitted: a growable job
    /// completes only when none is still awaited.
    public mutating func extendJob(
        _ id: String, urlCount: Int, terminal: [Int] = [], hosts: [(index: Int, host: Int)] = [], settled: Int,
        now: Instant
    ) -> [Action] {
        guard let position = jobIndex[id] else { return [] }
        precondition(jobs[position].growable, "job '\(id)' is not growable")
        var actions: [Action] = []
        let old = jobs[position].space.total
        if urlCount > old {
            jobs[position].space = KeySpace(urlCount: urlCount, repeatCount: 1)
            jobs[position].terminal.grow(to: urlCount)
            jobs[position].partition?.grow(to: urlCount)
        }
        for index in terminal {
            precondition(index >= old && index < jobs[position].space.total, "skipped key \(index) is not new")
            jobs[position].finish(index, .skipped)
        }
        if jobs[position].isCancelling {
            if urlCount > old {
                // Keys past the cancel cursor count as terminal; the new ones still need their `cancelled` records.
                let range = old..<urlCount
                let count = range.count - terminal.count
                jobs[position].cursor = urlCount
                if count > 0 {
                    jobs[position].done += count
                    jobs[position].cancelled += count
                    actions.append(.recordCancelled(CancelledKeys(
                        job: id, space: jobs[position].space, listed: [], range: range, skip: jobs[position].terminal,
                        count: count)))
                }
            }
        } else {
            precondition(hosts.count + terminal.count == max(0, urlCount - old),
                         "job '\(id)': each new key needs its host or its record")
            for (index, host) in hosts {
                precondition(index >= old && index < urlCount && !jobs[position].terminal.contains(index),
                             "job '\(id)': key \(index) given a host is not a new unfinished key")
                jobs[position].partition!.add(index, host: host)
            }
        }
        precondition(settled <= jobs[position].awaitingDiscoveries,
                     "job '\(id)': more discoveries settled than awaited")
        jobs[position].awaitingDiscoveries -= settled
        finishIfComplete(position, into: &actions)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// Cancels a growable job's pending keys, those in its host queues: every key neither terminal nor in flight.
    mutating func cancelPending(_ index: Int) -> CancelledKeys {
        let total = jobs[index].space.total
        var skip = jobs[index].terminal
        for key in jobs[index].inFlight.keys { skip.insert(key) }
        // Out of the job while it is drained, so the drain can mark the job's keys without a copy of the partition.
        var partition = jobs[index].partition!
        jobs[index].partition = nil
        var count = 0
        partition.drainPending { key in
            jobs[index].terminal.insert(key)
            count += 1
        }
        jobs[index].partition = partition
        precondition(count == total - jobs[index].done - jobs[index].outstanding,
                     "job '\(jobs[index].id)': \(count) pending keys drained, the job counts otherwise")
        jobs[index].cancelCursor = total
        jobs[index].cursor = total
        jobs[index].done += count
        jobs[index].cancelled += count
        return CancelledKeys(
            job: jobs[index].id, space: jobs[index].space, listed: [], range: 0..<total, skip: skip, count: count)
    }
}
