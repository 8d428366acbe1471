import ArachneCore
import ArachneSystem

/// The steps of one GET on a non-blocking socket, each returning at once: shared by `nonblocking`, `callbacks` and
/// `coroutines`, which differ only in how they learn that a step can make progress.
enum NonBlockingIO {
    /// What a receive step found.
    enum Received {
        /// Nothing more to read now; the response is not over.
        case wouldBlock
        /// The server closed the connection: here is the whole response.
        case finished(ResponseSummary)
    }

    /// Opens a non-blocking socket and starts connecting. The socket is connected when it turns writable.
    static func open(_ job: LadderJob) throws(FetchFailure) -> Int32 {
        let fd: Int32
        do {
            fd = try Syscall.tcpSocket(nonBlocking: true)
        } catch {
            throw FetchFailure(error)
        }
        do {
            _ = try Syscall.connect(fd, job.address)
        } catch {
            try? Syscall.close(fd)
            throw FetchFailure(error)
        }
        return fd
    }

    /// The error a non-blocking connect ended with, once the socket reported writable or an error.
    static func connectFailure(_ fd: Int32) -> FetchFailure? {
        do {
            let code = try Syscall.socketError(fd)
            return code == 0 ? nil : FetchFailure(SystemError(call: "connect", errno: code))
        } catch {
            return FetchFailure(error)
        }
    }

    /// Sends what is left of the request after `sent` bytes; returns how many bytes have been sent in all.
    /// Sending on a socket that is still connecting would block, so this also tells when a connect is done.
    static func send(_ fd: Int32, _ job: LadderJob, sent: Int) throws(FetchFailure) -> Int {
        var sent = sent
        while sent < job.requestBytes.count {
            let result: IOResult<Int>
            do {
                result = try job.requestBytes.withUnsafeBytes { bytes in
                    try Syscall.write(fd, from: UnsafeRawBufferPointer(rebasing: bytes[sent...]))
                }
            } catch let error as SystemError {
                throw FetchFailure(error)
            } catch {
                throw FetchFailure(kind: .io, message: "\(error)")
            }
            guard case .processed(let count) = result else { break }
            sent += count
        }
        return sent
    }

    /// Reads everything available into `reader`, until the read would block or the server closes.
    static func receive(
        _ fd: Int32, into reader: inout ResponseReader, buffer: UnsafeMutableRawBufferPointer
    ) throws(FetchFailure) -> Received {
        while true {
            let result: IOResult<Int>
            do {
                result = try Syscall.read(fd, into: buffer)
            } catch {
                throw FetchFailure(error)
            }
            switch result {
            case .wouldBlock:
                return .wouldBlock
            case .processed(0):
                return .finished(try reader.finish())
            case .processed(let count):
                try reader.consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
        }
    }
}
