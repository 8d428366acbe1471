extension Scheduler {
    /// Leases work to every worker with enough credit: one lease per worker per round, rotating the first worker, so
    /// work spreads over workers; each lease goes to the job with the least outstanding work per weight.
    ///
    /// A worker gets a lease when its credit covers a full batch, when it has nothing outstanding, or when its credit
    /// covers all the work left — so a worker granting credit one request at a time is not sent one-key leases.
    mutating func dispatch(now: Instant, into actions: inout [Action]) {
        guard !workers.isEmpty else { return }
        var available = jobs.reduce(0) { $0 + ($1.isCancelling ? 0 : $1.available) }
        guard available > 0 else { return }
        let count = workers.count
        let start = dispatchRotation % count
        dispatchRotation &+= 1
        var progressed = true
        while progressed, available > 0 {
            progressed = false
            for step in 0..<count where available > 0 {
                let position = (start + step) % count
                let worker = workers[position]
                let target = targetBatchSize(capacity: worker.capacity)
                guard worker.credit > 0,
                    worker.credit >= target || worker.outstanding == 0 || worker.credit >= available
                else { continue }
                guard let jobPosition = pickJob(for: worker) else { continue }
                let room = jobs[jobPosition].limit(on: worker) - worker.outstandingByJob[jobs[jobPosition].id, default: 0]
                let keys = jobs[jobPosition].take(
                    min(worker.credit, target, room), session: worker.session, workers: count)
                guard !keys.isEmpty else { continue }
                lease(keys, job: jobPosition, worker: position, now: now, into: &actions)
                available -= keys.count
                progressed = true
            }
        }
    }

    /// The job to lease from next to `worker`: least outstanding work per weight, then the one served longest ago;
    /// jobs at their per-worker limit on this worker are skipped, and so are crawls with no host this worker may
    /// be leased now (their hosts are held by other workers, or at their window).
    func pickJob(for worker: WorkerEntry) -> Int? {
        var best: Int?
        for position in jobs.indices where !jobs[position].isCancelling && jobs[position].available > 0 {
            let limit = jobs[position].limit(on: worker)
            if limit != .max && worker.outstandingByJob[jobs[position].id, default: 0] >= limit { continue }
            if let partition = jobs[position].partition,
                !partition.canOffer(to: worker.session, workers: workers.count)
            {
                continue
            }
            guard let current = best else {
                best = position
                continue
            }
            let candidate = jobs[position].outstanding * jobs[current].weight
            let incumbent = jobs[current].outstanding * jobs[position].weight
            if candidate < incumbent
                || (candidate == incumbent && jobs[position].lastServed < jobs[current].lastServed)
            {
                best = position
            }
        }
        return best
    }

    mutating func lease(_ keys: [Int], job jobPosition: Int, worker position: Int, now: Instant,
                        into actions: inout [Action])
    {
        let batch = nextBatch
        nextBatch += 1
        let jobID = jobs[jobPosition].id
        for key in keys { jobs[jobPosition].inFlight[key] = batch }
        serveCounter += 1
        jobs[jobPosition].lastServed = serveCounter
        let workerID = workers[position].id
        if workers[position].knownJobs.insert(jobID).inserted {
            actions.append(.sendJobSettings(worker: workerID, job: jobID))
        }
        workers[position].credit -= keys.count
        workers[position].outstanding += keys.count
        if jobs[jobPosition].limit(on: workers[position]) != .max {
            workers[position].outstandingByJob[jobID, default: 0] += keys.count
        }
        workers[position].batches.append(batch)
        workers[position].lastSent = now
        batches[batch] = BatchEntry(id: batch, worker: workerID, job: jobID, keys: keys, pending: keys.count)
        let space = jobs[jobPosition].space
        actions.append(
            .sendLease(
                Lease(
                    batch: batch, job: jobID, worker: workerID, keys: keys.map(space.key(at:)),
                    deadlineMs: Int(configuration.leaseTimeoutMs)
                )
            )
        )
    }

    /// A key of the batch got its result: one fewer pending. Returns the position of the worker holding the batch.
    mutating func settle(_ batch: UInt64) -> Int? {
        guard let entry = batches[batch] else { return nil }
        let position = workerIndex[entry.worker]
        if let position {
            workers[position].outstanding -= 1
            workers[position].release(job: entry.job, keys: 1)
        }
        if entry.pending == 1 {
            batches[batch] = nil
            if let position { workers[position].batches.removeAll { $0 == batch } }
        } else {
            batches[batch]!.pending -= 1
        }
        return position
    }

    /// Takes a lease back: each of its keys still in flight goes back to the queue — or ends as `worker-lost` once it
    /// has been leased `maxAttempts` times, or as `cancelled` for a cancelled job.
    mutating func returnBatch(_ batch: UInt64, into actions: inout [Action]) {
        guard let entry = batches.removeValue(forKey: batch) else { return }
        if let position = workerIndex[entry.worker] {
            workers[position].batches.removeAll { $0 == batch }
            workers[position].outstanding -= entry.pending
            workers[position].release(job: entry.job, keys: entry.pending)
        }
        guard let jobPosition = jobIndex[entry.job] else { return }
        var requeued = 0
        var lost: [LostKey] = []
        var cancelled: [Int] = []
        let space = jobs[jobPosition].space
        var returned: [Int] = []
        for key in entry.keys where jobs[jobPosition].inFlight[key] == batch {
            jobs[jobPosition].inFlight[key] = nil
            if jobs[jobPosition].isCancelling {
                jobs[jobPosition].finish(key, .cancelled)
                jobs[jobPosition].partition?.finish(key, wasInFlight: true)
                cancelled.append(key)
            } else if (jobs[jobPosition].attempts[key] ?? 1) >= configuration.maxAttempts {
                let attempts = jobs[jobPosition].attempts.removeValue(forKey: key) ?? 1
                jobs[jobPosition].finish(key, .failed)
                jobs[jobPosition].partition?.finish(key, wasInFlight: true)
                lost.append(LostKey(key: space.key(at: key), attempts: attempts))
            } else if jobs[jobPosition].partition != nil {
                returned.append(key)
                requeued += 1
            } else {
                jobs[jobPosition].requeue.append(key)
                requeued += 1
            }
        }
        // A growable job's keys go back to the front of their host queues (last back, first out: so in reverse).
        for key in returned.reversed() { jobs[jobPosition].partition!.requeue(key) }
        if requeued > 0 { jobs[jobPosition].reassignedBatches += 1 }
        if !lost.isEmpty { actions.append(.recordWorkerLost(job: entry.job, keys: lost)) }
        if !cancelled.isEmpty {
            cancelled.sort()
            actions.append(
                .recordCancelled(CancelledKeys(
                    job: entry.job, space: space, listed: cancelled, count: cancelled.count, wereLeased: true))
            )
        }
        finishIfComplete(jobPosition, into: &actions)
    }

    /// Ends a worker's session and takes back its leases.
    mutating func removeWorker(at position: Int, reason: WorkerRemoval, now: Instant, into actions: inout [Action]) {
        let entry = workers.remove(at: position)
        workerIndex = Dictionary(uniqueKeysWithValues: workers.enumerated().map { ($1.id, $0) })
        actions.append(.workerRemoved(worker: entry.id, reason: reason))
        for batch in entry.batches { returnBatch(batch, into: &actions) }
        // Its hosts (their keys now back in their queues) go to whichever worker claims them next.
        for position in jobs.indices { jobs[position].partition?.release(owner: entry.session) }
    }

    /// A cancelled job's in-flight keys whose results did not come within the lease timeout end as `cancelled`.
    mutating func abandonInFlight(_ jobPosition: Int, into actions: inout [Action]) {
        let id = jobs[jobPosition].id
        jobs[jobPosition].cancelDeadline = nil
        for batch in Set(jobs[jobPosition].inFlight.values).sorted() {
            returnBatch(batch, into: &actions)
        }
        if let position = jobIndex[id] { finishIfComplete(position, into: &actions) }
    }

    /// When every key of the job has its record: announces it and forgets the job.
    mutating func finishIfComplete(_ jobPosition: Int, into actions: inout [Action]) {
        guard jobs[jobPosition].done == jobs[jobPosition].space.total, jobs[jobPosition].awaitingDiscoveries == 0
        else { return }
        let job = jobs.remove(at: jobPosition)
        jobIndex = Dictionary(uniqueKeysWithValues: jobs.enumerated().map { ($1.id, $0) })
        for position in workers.indices { workers[position].knownJobs.remove(job.id) }
        actions.append(
            .jobFinished(job: job.id, outcome: job.isCancelling ? .cancelled : .completed, progress: job.progress)
        )
    }
}

extension JobEntry {
    /// The keys of this job `worker` may hold: the job's limit when it is below the worker's capacity, else no limit
    /// (the worker's capacity and credit window decide, and keys queued ahead keep its lanes busy).
    func limit(on worker: WorkerEntry) -> Int {
        perWorkerLimit < worker.capacity ? perWorkerLimit : .max
    }
}

extension WorkerEntry {
    /// `keys` of `job` are no longer outstanding on this worker (a no-op for jobs without a per-worker limit).
    mutating func release(job: String, keys: Int) {
        guard let held = outstandingByJob[job] else { return }
        outstandingByJob[job] = held > keys ? held - keys : nil
    }
}
