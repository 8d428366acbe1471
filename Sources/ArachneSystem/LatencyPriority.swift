import CArachneLinux
import Glibc

/// Real-time scheduling for a thread whose job is to answer quickly, not to do much: the coordinator's control loop
/// (and its ZeroMQ I/O thread).
///
/// On a machine with more runnable threads than cores — a coordinator and its workers at full speed on two cores —
/// a thread woken by a request can wait for a CPU for tens or hundreds of milliseconds under the ordinary (fair)
/// scheduler, however little it then does. A `SCHED_RR` thread is run before every ordinary thread as soon as it is
/// runnable. The priority is the lowest real-time one (1): above every ordinary thread, below anything an
/// administrator made real-time on purpose. The kernel's real-time throttling (`sched_rt_runtime_us`, 95% by
/// default) bounds what a runaway real-time thread could take.
///
/// Needs `CAP_SYS_NICE` (root has it) or a non-zero `RLIMIT_RTPRIO`; without either, the thread stays as it was and
/// the caller is told why.
public enum LatencyPriority {
    /// The `SCHED_RR` priority given: the lowest.
    public static let realTimePriority: Int32 = 1

    /// `SCHED_RESET_ON_FORK`: a process started from this thread begins under the ordinary scheduler again.
    private static let resetOnFork: Int32 = 0x4000_0000

    /// Puts the calling thread under `SCHED_RR` at `realTimePriority`. Returns nil when it did, else why not.
    public static func raiseCallingThread() -> String? {
        var parameters = sched_param()
        parameters.sched_priority = realTimePriority
        // On Linux, pid 0 is the calling thread, not the whole process.
        if sched_setscheduler(0, Int32(SCHED_RR) | resetOnFork, &parameters) == 0 { return nil }
        let code = c_arachne_errno()
        if code == EPERM {
            return "not permitted (needs CAP_SYS_NICE or a real-time priority limit, `ulimit -r`)"
        }
        return SystemError(call: "sched_setscheduler", errno: code).description
    }

    /// The calling thread's scheduling policy: `SCHED_RR`, `SCHED_OTHER`... (for tests).
    public static func callingThreadPolicy() -> Int32 {
        sched_getscheduler(0) & ~resetOnFork
    }
}
