#pragma once

// A self-pipe: a descriptor a poll() loop watches, made readable from any thread or from a
// signal handler (write() is async-signal-safe), to wake the loop early.

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <system_error>
#include <utility>

namespace gossip::detail {

class wake_pipe {
public:
    wake_pipe()
    {
        std::array<int, 2> fds{-1, -1};
        if (::pipe(fds.data()) != 0) {
            throw std::system_error(errno, std::generic_category(), "cannot create the wake-up pipe");
        }
        for (const int fd : fds) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        read_ = fds[0];
        write_ = fds[1];
    }
    wake_pipe(wake_pipe&& other) noexcept
        : read_(std::exchange(other.read_, -1)), write_(std::exchange(other.write_, -1))
    {
    }
    wake_pipe& operator=(wake_pipe&&) = delete;
    wake_pipe(const wake_pipe&) = delete;
    wake_pipe& operator=(const wake_pipe&) = delete;
    ~wake_pipe()
    {
        if (read_ >= 0) {
            ::close(read_);
        }
        if (write_ >= 0) {
            ::close(write_);
        }
    }

    /// The end to watch for readability.
    [[nodiscard]] int fd() const noexcept { return read_; }

    /// Async-signal-safe. A full pipe already means "wake up", so a failed write loses nothing.
    void wake() const noexcept
    {
        const char byte = 1;
        const int saved = errno;
        [[maybe_unused]] const auto n = ::write(write_, &byte, 1);
        errno = saved;
    }

    /// Empties the pipe; call once woken.
    void drain() const noexcept
    {
        std::array<char, 64> sink{};
        while (::read(read_, sink.data(), sink.size()) > 0) {
        }
    }

private:
    int read_ = -1;
    int write_ = -1;
};

} // namespace gossip::detail
