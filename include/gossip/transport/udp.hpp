#pragma once

// A POSIX UDP socket as a gossip transport: IPv4 or IPv6, non-blocking, and batched both ways
// (recvmmsg/sendmmsg on Linux, one datagram per call elsewhere).
//
// Sending queues the datagram in the transport; flush() hands the queue to the kernel in one
// call, and the queue also flushes itself when it holds options.batch datagrams. node_driver and
// run_loop flush after every period and every batch received, so that the replies to a batch of
// requests leave in one system call. Whoever drives a node by hand calls flush() likewise.
//
// Receiving is pulled: receive(deliver) reads up to a batch of datagrams and hands each one to
// deliver(from, bytes) before returning. The receive buffers belong to the thread, not to the
// transport, because bytes live only during deliver(): a process running a thousand nodes on
// one thread keeps one set of buffers, not a thousand. A datagram longer than
// options.max_datagram_bytes is dropped and counted, never handed over truncated.
//
// Nothing allocates per datagram once the queue and the buffers have grown to their batch.

#include "../detail/scratch.hpp"
#include "udp_address.hpp"

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace gossip::transport {

/// Knobs of a UDP socket.
struct udp_options {
    /// Datagrams per recvmmsg and sendmmsg call, and the most the send queue holds.
    std::size_t batch = 32;
    /// The longest datagram accepted; a longer one is dropped and counted as oversized.
    /// Must cover the max_message_bytes of every peer.
    std::size_t max_datagram_bytes = 2048;
    /// SO_RCVBUF and SO_SNDBUF in bytes; 0 keeps the system's default.
    int receive_buffer_bytes = 0;
    int send_buffer_bytes = 0;
    /// For an IPv6 socket: accept IPv6 only (true), or IPv4-mapped traffic too.
    bool v6_only = true;
};

/// What the socket has done and refused, beside the node's own counts.
struct udp_statistics {
    std::uint64_t datagrams_received = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t dropped_oversized = 0;  ///< longer than max_datagram_bytes
    std::uint64_t dropped_bad_source = 0; ///< from an address family we do not speak
    std::uint64_t receive_errors = 0;     ///< errors other than "nothing to read"
    std::uint64_t datagrams_sent = 0;     ///< accepted by the kernel
    std::uint64_t bytes_sent = 0;
    std::uint64_t send_errors = 0;   ///< refused by the kernel (full buffer, unreachable, ...)
    std::uint64_t refused = 0;       ///< refused before the kernel: wrong family, too long
    std::uint64_t receive_calls = 0; ///< system calls that returned datagrams
    std::uint64_t send_calls = 0;

    friend bool operator==(const udp_statistics&, const udp_statistics&) = default;
};

/// A bound, non-blocking UDP socket.
class udp {
public:
    using address_type = udp_address;

    /// Binds a socket at `at` (port 0 picks a free one; local_address() tells which). Throws
    /// std::system_error naming the address when the system refuses.
    explicit udp(const udp_address& at, const udp_options& options = {}) : options_(checked(options)), local_(at)
    {
        const int family = at.is_v4() ? AF_INET : AF_INET6;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
        fd_ = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
        fd_ = ::socket(family, SOCK_DGRAM, 0);
        if (fd_ >= 0) {
            ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
            ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
        }
#endif
        if (fd_ < 0) {
            throw error(errno, "cannot open a UDP socket for ", at);
        }
        try {
            if (at.is_v6()) {
                const int only = options.v6_only ? 1 : 0;
                set_option(IPPROTO_IPV6, IPV6_V6ONLY, only, "IPV6_V6ONLY");
            }
            if (options.receive_buffer_bytes > 0) {
                set_option(SOL_SOCKET, SO_RCVBUF, options.receive_buffer_bytes, "SO_RCVBUF");
            }
            if (options.send_buffer_bytes > 0) {
                set_option(SOL_SOCKET, SO_SNDBUF, options.send_buffer_bytes, "SO_SNDBUF");
            }
            sockaddr_storage sa{};
            const socklen_t length = at.to_sockaddr(sa);
            if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), length) != 0) {
                throw error(errno, "cannot bind ", at);
            }
            sockaddr_storage bound{};
            socklen_t bound_length = sizeof bound;
            if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
                throw error(errno, "cannot read the address bound for ", at);
            }
            local_ = udp_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length).value_or(at);
        } catch (...) {
            ::close(fd_);
            throw;
        }
    }

    udp(udp&& other) noexcept
        : options_(other.options_), fd_(std::exchange(other.fd_, -1)), local_(other.local_),
          queue_(std::move(other.queue_)), queue_bytes_(std::move(other.queue_bytes_)), stats_(other.stats_)
    {
    }
    udp& operator=(udp&& other) noexcept
    {
        if (this != &other) {
            close();
            options_ = other.options_;
            fd_ = std::exchange(other.fd_, -1);
            local_ = other.local_;
            queue_ = std::move(other.queue_);
            queue_bytes_ = std::move(other.queue_bytes_);
            stats_ = other.stats_;
        }
        return *this;
    }
    udp(const udp&) = delete;
    udp& operator=(const udp&) = delete;
    ~udp() { close(); }

    [[nodiscard]] const udp_address& local_address() const noexcept { return local_; }
    /// The socket, for poll() or an event loop of the user's; it stays owned by the transport.
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] const udp_statistics& statistics() const noexcept { return stats_; }
    [[nodiscard]] const udp_options& options() const noexcept { return options_; }
    /// Datagrams queued and not yet handed to the kernel.
    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }

    /// Queues one datagram for `to`. false (and counted) when it can never be sent: a family
    /// other than the socket's, a datagram UDP cannot carry, or a closed socket. Whether the
    /// kernel then takes it shows in statistics().send_errors.
    bool send(const udp_address& to, std::span<const std::byte> bytes)
    {
        if (fd_ < 0 || to.ip_family() != local_.ip_family() || bytes.size() > max_udp_payload) {
            ++stats_.refused;
            return false;
        }
        if (queue_.size() >= options_.batch) {
            flush();
        }
        queued_datagram q;
        q.length = to.to_sockaddr(q.to);
        q.offset = queue_bytes_.size();
        q.size = bytes.size();
        queue_bytes_.insert(queue_bytes_.end(), bytes.begin(), bytes.end());
        queue_.push_back(q);
        return true;
    }

    /// Hands every queued datagram to the kernel. A datagram the kernel refuses is counted and
    /// dropped, as the network might have dropped it: gossip repairs loss by repetition.
    void flush()
    {
        if (queue_.empty()) {
            return;
        }
        std::size_t done = 0;
#if defined(__linux__)
        struct header_tag {};
        detail::scratch_vector<mmsghdr, header_tag> header_lease;
        struct iovec_tag {};
        detail::scratch_vector<iovec, iovec_tag> iovec_lease;
        auto& headers = header_lease.get();
        auto& vectors = iovec_lease.get();
        headers.resize(queue_.size());
        vectors.resize(queue_.size());
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            vectors[i] = iovec{queue_bytes_.data() + queue_[i].offset, queue_[i].size};
            headers[i] = mmsghdr{};
            headers[i].msg_hdr.msg_name = &queue_[i].to;
            headers[i].msg_hdr.msg_namelen = queue_[i].length;
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        while (done < queue_.size()) {
            const int sent = ::sendmmsg(fd_, headers.data() + done, static_cast<unsigned>(queue_.size() - done), 0);
            if (sent < 0) {
                if (errno == EINTR) {
                    continue;
                }
                // The first datagram of the rest was refused (full buffer, unreachable peer):
                // drop it and go on with the others.
                ++stats_.send_errors;
                ++done;
                continue;
            }
            ++stats_.send_calls;
            for (std::size_t i = done; i < done + static_cast<std::size_t>(sent); ++i) {
                ++stats_.datagrams_sent;
                stats_.bytes_sent += queue_[i].size;
            }
            done += static_cast<std::size_t>(sent);
        }
#else
        for (; done < queue_.size(); ++done) {
            const auto& q = queue_[done];
            ssize_t sent = -1;
            do {
                sent = ::sendto(fd_, queue_bytes_.data() + q.offset, q.size, 0,
                                reinterpret_cast<const sockaddr*>(&q.to), q.length);
            } while (sent < 0 && errno == EINTR);
            if (sent < 0) {
                ++stats_.send_errors;
            } else {
                ++stats_.send_calls;
                ++stats_.datagrams_sent;
                stats_.bytes_sent += q.size;
            }
        }
#endif
        queue_.clear();
        queue_bytes_.clear();
    }

    /// Reads what is waiting, up to one batch, and calls deliver(const udp_address& from,
    /// std::span<const std::byte> bytes) for each datagram; the bytes are valid only during the
    /// call. Returns how many datagrams were read (delivered or dropped); 0 when none waited.
    template <class Deliver>
    std::size_t receive(Deliver&& deliver)
    {
        if (fd_ < 0) {
            return 0;
        }
        const std::size_t slot = options_.max_datagram_bytes + 1; // one more byte reveals an oversized one
#if defined(__linux__)
        const std::size_t batch = options_.batch;
        struct bytes_tag {};
        struct header_tag {};
        struct iovec_tag {};
        struct name_tag {};
        detail::scratch_vector<std::byte, bytes_tag> bytes_lease;
        detail::scratch_vector<mmsghdr, header_tag> header_lease;
        detail::scratch_vector<iovec, iovec_tag> iovec_lease;
        detail::scratch_vector<sockaddr_storage, name_tag> name_lease;
        auto& bytes = bytes_lease.get();
        auto& headers = header_lease.get();
        auto& vectors = iovec_lease.get();
        auto& names = name_lease.get();
        if (bytes.size() < batch * slot) {
            bytes.resize(batch * slot);
        }
        headers.resize(batch);
        vectors.resize(batch);
        names.resize(batch);
        for (std::size_t i = 0; i < batch; ++i) {
            vectors[i] = iovec{bytes.data() + i * slot, slot};
            headers[i] = mmsghdr{};
            headers[i].msg_hdr.msg_name = &names[i];
            headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        int got = -1;
        do {
            got = ::recvmmsg(fd_, headers.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
        } while (got < 0 && errno == EINTR);
        if (got <= 0) {
            if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                ++stats_.receive_errors;
            }
            return 0;
        }
        ++stats_.receive_calls;
        for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
            const auto& h = headers[i];
            deliver_one(deliver, reinterpret_cast<const sockaddr*>(&names[i]), h.msg_hdr.msg_namelen,
                        std::span<const std::byte>(bytes.data() + i * slot, h.msg_len),
                        (h.msg_hdr.msg_flags & MSG_TRUNC) != 0);
        }
        return static_cast<std::size_t>(got);
#else
        struct bytes_tag {};
        detail::scratch_vector<std::byte, bytes_tag> bytes_lease;
        auto& bytes = bytes_lease.get();
        if (bytes.size() < slot) {
            bytes.resize(slot);
        }
        std::size_t count = 0;
        for (; count < options_.batch; ++count) {
            sockaddr_storage name{};
            socklen_t length = sizeof name;
            const ssize_t got =
                ::recvfrom(fd_, bytes.data(), slot, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&name), &length);
            if (got < 0) {
                if (errno == EINTR) {
                    --count;
                    continue;
                }
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    ++stats_.receive_errors;
                }
                break;
            }
            if (count == 0) {
                ++stats_.receive_calls;
            }
            deliver_one(deliver, reinterpret_cast<const sockaddr*>(&name), length,
                        std::span<const std::byte>(bytes.data(), static_cast<std::size_t>(got)),
                        static_cast<std::size_t>(got) == slot);
        }
        return count;
#endif
    }

    /// Closes the socket now (the destructor does it otherwise). Queued datagrams are dropped.
    void close() noexcept
    {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        queue_.clear();
        queue_bytes_.clear();
    }

private:
    static constexpr std::size_t max_udp_payload = 65507;

    struct queued_datagram {
        sockaddr_storage to{};
        socklen_t length = 0;
        std::size_t offset = 0;
        std::size_t size = 0;
    };

    template <class Deliver>
    void deliver_one(Deliver& deliver, const sockaddr* name, socklen_t name_length, std::span<const std::byte> bytes,
                     bool truncated)
    {
        ++stats_.datagrams_received;
        stats_.bytes_received += bytes.size();
        if (truncated || bytes.size() > options_.max_datagram_bytes) {
            ++stats_.dropped_oversized;
            return;
        }
        const auto from = udp_address::from_sockaddr(name, name_length);
        if (!from) {
            ++stats_.dropped_bad_source;
            return;
        }
        deliver(*from, bytes);
    }

    static udp_options checked(const udp_options& o)
    {
        if (o.batch == 0 || o.batch > 1024) {
            throw std::invalid_argument("udp_options::batch = " + std::to_string(o.batch) + " is outside [1, 1024]");
        }
        if (o.max_datagram_bytes == 0 || o.max_datagram_bytes > max_udp_payload) {
            throw std::invalid_argument("udp_options::max_datagram_bytes = " + std::to_string(o.max_datagram_bytes) +
                                        " is outside [1, 65507]");
        }
        if (o.receive_buffer_bytes < 0 || o.send_buffer_bytes < 0) {
            throw std::invalid_argument(
                "udp_options: socket buffer sizes must be 0 (the system's default) or positive");
        }
        return o;
    }

    void set_option(int level, int name, int value, const char* what)
    {
        if (::setsockopt(fd_, level, name, &value, sizeof value) != 0) {
            throw error(errno, std::string("cannot set ") + what + " on ", local_);
        }
    }

    // errno comes first, taken before anything (to_string() included) can change it.
    static std::system_error error(int code, const std::string& what, const udp_address& about)
    {
        return {code, std::generic_category(), what + about.to_string()};
    }

    udp_options options_;
    int fd_ = -1;
    udp_address local_;
    std::vector<queued_datagram> queue_;
    std::vector<std::byte> queue_bytes_;
    udp_statistics stats_;
};

} // namespace gossip::transport
