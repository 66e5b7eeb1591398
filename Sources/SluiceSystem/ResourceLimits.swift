import Glibc

/// Raises the soft limit on open fds to the hard limit (each pulse client costs one fd; the
/// default soft limit of 1024 would cap clients below what the daemon promises). Returns the
/// limit in force. [control, at start-up]
@discardableResult
public func raiseFileDescriptorLimit() -> Int {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0 else { return -1 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
        _ = getrlimit(resource, &limit)
    }
    return Int(clamping: limit.rlim_cur)
}
