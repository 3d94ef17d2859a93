#pragma once

// CPU time from getrusage, for the benchmark programs that report CPU beside wall time.

#include <sys/resource.h>

namespace bench {

/// CPU seconds spent in user space and in the kernel.
struct cpu_times {
    double user = 0.0;
    double system = 0.0;
};

/// who: RUSAGE_SELF (the process) or RUSAGE_THREAD (the calling thread).
inline cpu_times cpu_usage(int who)
{
    rusage u{};
    ::getrusage(who, &u);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
    };
    return {seconds(u.ru_utime), seconds(u.ru_stime)};
}

} // namespace bench
