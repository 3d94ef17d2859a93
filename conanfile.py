import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class GossipConan(ConanFile):
    name = "gossip"
    description = "Header-only C++20 framework for gossip (epidemic) protocols"
    license = "MIT"
    topics = ("gossip", "epidemic", "peer-sampling", "membership", "simulation", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    # The headers and the licence are all a package holds; package() copies them, so no build
    # and no CMake run is needed.
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        # The single source of the version, as for CMake's project(VERSION).
        header = load(self, os.path.join(self.recipe_folder, "include", "gossip", "version.hpp"))
        parts = []
        for part in ("major", "minor", "patch"):
            match = re.search(rf"inline constexpr int version_{part} = (\d+);", header)
            if not match:
                raise ValueError(f"include/gossip/version.hpp has no version_{part}")
            parts.append(match.group(1))
        self.version = ".".join(parts)

    def layout(self):
        basic_layout(self)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "gossip")
        self.cpp_info.set_property("cmake_target_name", "gossip::gossip")
        self.cpp_info.set_property("pkg_config_name", "gossip")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        # The cluster driver and the simulator's parallel round start threads.
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
