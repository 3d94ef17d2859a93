#pragma once

// gossip_agent as a child process, for tests that drive it as a user would: lines on its stdin,
// lines read back from its stdout (stderr goes to the same pipe). Every wait has a deadline, and
// the destructor stops the process (SIGTERM, then SIGKILL) and reaps it. Tests start agents with
// --exit-on-eof, so that an agent whose test was killed ends with the test's end of its stdin.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char** environ; // NOLINT(readability-redundant-declaration): POSIX leaves it undeclared

namespace test {

class agent_process {
public:
    using clock = std::chrono::steady_clock;

    /// Starts `program` with `args`; throws std::runtime_error when it cannot.
    agent_process(const std::string& program, const std::vector<std::string>& args)
    {
        std::signal(SIGPIPE, SIG_IGN); // writing to a child that died must fail, not kill the test
        int in[2] = {-1, -1};
        int out[2] = {-1, -1};
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
            close_all({in[0], in[1], out[0], out[1]});
            throw std::runtime_error("pipe2 failed");
        }
        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        ::posix_spawn_file_actions_adddup2(&actions, out[1], 2);
        // The agent starts as from a shell: default SIGPIPE, nothing blocked.
        posix_spawnattr_t attributes;
        ::posix_spawnattr_init(&attributes);
        sigset_t defaults;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigset_t none;
        sigemptyset(&none);
        ::posix_spawnattr_setsigdefault(&attributes, &defaults);
        ::posix_spawnattr_setsigmask(&attributes, &none);
        ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        std::vector<std::string> words{program};
        words.insert(words.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& w : words) {
            argv.push_back(w.data());
        }
        argv.push_back(nullptr);
        const int failed = ::posix_spawn(&pid_, program.c_str(), &actions, &attributes, argv.data(), environ);
        ::posix_spawnattr_destroy(&attributes);
        ::posix_spawn_file_actions_destroy(&actions);
        close_all({in[0], out[1]});
        stdin_ = in[1];
        stdout_ = out[0];
        if (failed != 0) {
            pid_ = -1;
            close_all({stdin_, stdout_});
            throw std::runtime_error("cannot start " + program);
        }
        ::fcntl(stdout_, F_SETFL, ::fcntl(stdout_, F_GETFL) | O_NONBLOCK);
    }

    agent_process(const agent_process&) = delete;
    agent_process& operator=(const agent_process&) = delete;

    ~agent_process()
    {
        (void)stop(std::chrono::seconds{5});
        ::close(stdin_);
        ::close(stdout_);
    }

    /// Writes one line to the agent's stdin.
    void say(std::string_view line)
    {
        std::string text(line);
        text += '\n';
        std::size_t done = 0;
        while (done < text.size()) {
            const auto n = ::write(stdin_, text.data() + done, text.size() - done);
            if (n <= 0) {
                return;
            }
            done += static_cast<std::size_t>(n);
        }
    }

    /// The first line after the last one found that contains `text`, waiting at most `limit`.
    std::optional<std::string> wait_for(std::string_view text, std::chrono::milliseconds limit)
    {
        return wait_until([&](const std::string& line) { return line.find(text) != std::string::npos; }, limit);
    }

    /// The same, for a line that starts with `text`.
    std::optional<std::string> wait_for_start(std::string_view text, std::chrono::milliseconds limit)
    {
        return wait_until([&](const std::string& line) { return line.rfind(text, 0) == 0; }, limit);
    }

    template <class Match>
    std::optional<std::string> wait_until(Match&& match, std::chrono::milliseconds limit)
    {
        const auto deadline = clock::now() + limit;
        for (;;) {
            for (; next_ < lines_.size(); ++next_) {
                if (match(lines_[next_])) {
                    return lines_[next_++];
                }
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0 || !read_some(left)) {
                return std::nullopt;
            }
        }
    }

    /// Reads what the agent has written so far, without waiting.
    void drain() { (void)read_some(std::chrono::milliseconds{0}); }

    /// Every line read so far, without the agent's timestamps.
    [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }
    /// How many of them carried a timestamp.
    [[nodiscard]] std::size_t stamped() const noexcept { return stamped_; }

    /// Asks for /stats and returns the value of `name=` in the answer, or nullopt.
    std::optional<std::uint64_t> stat(std::string_view name, std::chrono::milliseconds limit = std::chrono::seconds{5})
    {
        say("/stats");
        const auto line = wait_for_start("stats ", limit);
        if (!line) {
            return std::nullopt;
        }
        const std::string key = " " + std::string(name) + "=";
        const auto at = line->find(key);
        if (at == std::string::npos) {
            return std::nullopt;
        }
        return std::stoull(line->substr(at + key.size()));
    }

    /// The resident set in KiB (VmRSS), or 0 when it cannot be read.
    [[nodiscard]] std::size_t rss_kib() const
    {
        std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
        std::string word;
        while (status >> word) {
            if (word == "VmRSS:") {
                std::size_t kib = 0;
                status >> kib;
                return kib;
            }
        }
        return 0;
    }

    /// Sends SIGTERM and waits up to `limit` for the exit (then SIGKILL); the exit status, or -1
    /// when the process had to be killed or was already reaped.
    int stop(std::chrono::milliseconds limit)
    {
        if (pid_ <= 0) {
            return -1;
        }
        ::kill(pid_, SIGTERM);
        return wait_exit(limit);
    }

    /// Waits up to `limit` for the process to end by itself (then SIGKILL); as stop().
    int wait_exit(std::chrono::milliseconds limit)
    {
        if (pid_ <= 0) {
            return -1;
        }
        const auto deadline = clock::now() + limit;
        int status = 0;
        while (clock::now() < deadline) {
            drain();
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                drain();
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
    }

private:
    // Waits up to `limit` for output and splits what came into lines; false at end of file with
    // nothing more, or when nothing came in time.
    bool read_some(std::chrono::milliseconds limit)
    {
        pollfd p{stdout_, POLLIN, 0};
        const auto deadline = clock::now() + limit;
        int ready = 0;
        do { // a signal cuts a poll short: wait again for what is left
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
        } while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
            return false;
        }
        bool got = false;
        char buffer[4096];
        for (;;) {
            const auto n = ::read(stdout_, buffer, sizeof buffer);
            if (n <= 0) {
                break;
            }
            got = true;
            partial_.append(buffer, static_cast<std::size_t>(n));
        }
        for (auto at = partial_.find('\n'); at != std::string::npos; at = partial_.find('\n')) {
            lines_.push_back(unstamped(partial_.substr(0, at)));
            partial_.erase(0, at + 1);
        }
        return got;
    }

    // The agent stamps its lines "2026-12-05T22:40:01.123Z ": kept out of the lines, counted.
    std::string unstamped(std::string line)
    {
        constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ ";
        bool stamped = line.size() >= shape.size();
        for (std::size_t i = 0; stamped && i < shape.size(); ++i) {
            const bool digit = line[i] >= '0' && line[i] <= '9';
            stamped = shape[i] == 'd' ? digit : line[i] == shape[i];
        }
        if (stamped) {
            ++stamped_;
            line.erase(0, shape.size());
        }
        return line;
    }

    static void close_all(std::initializer_list<int> fds)
    {
        for (const int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string partial_;
    std::vector<std::string> lines_;
    std::size_t next_ = 0;
    std::size_t stamped_ = 0;
};

} // namespace test
