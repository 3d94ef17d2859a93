#pragma once

// The single source of the library's version: CMake's project(VERSION) reads these lines.

namespace gossip {

inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;

/// "major.minor.patch", for logs and --version output.
inline constexpr const char* version_string = "0.1.0";

} // namespace gossip
