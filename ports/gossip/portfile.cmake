# An overlay port of this repository: `vcpkg install gossip --overlay-ports=ports` from the root of
# a checkout packages that checkout, whatever state it is in.
set(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../..")

set(VCPKG_BUILD_TYPE release) # header-only: nothing differs between debug and release

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DGOSSIP_BUILD_TESTS=OFF
        -DGOSSIP_BUILD_EXAMPLES=OFF
        -DGOSSIP_BUILD_BENCHMARKS=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/gossip)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
