# hygiene.format: `scripts/format.sh --check`, which fails when a C++ file under include/ tests/
# bench/ examples/ test_package/ is not formatted as .clang-format says (clang-format 14). Reads
# the source tree and builds nothing; a few seconds. Skipped, with the reason, when no
# clang-format is installed (GOSSIP_WITH_FORMAT=1 scripts/install-deps.sh installs one).
#
# Meant to be included from tests/hygiene/CMakeLists.txt, after its GOSSIP_TEST_HYGIENE check:
#   include(${CMAKE_CURRENT_LIST_DIR}/format_check.cmake)
find_program(GOSSIP_CLANG_FORMAT NAMES clang-format-14 clang-format DOC "clang-format for the hygiene.format test")
add_test(NAME hygiene.format COMMAND ${PROJECT_SOURCE_DIR}/scripts/format.sh --check)
set_tests_properties(hygiene.format PROPERTIES
  LABELS hygiene
  SKIP_REGULAR_EXPRESSION "SKIPPED:"
  TIMEOUT 120)
if(GOSSIP_CLANG_FORMAT)
  set_property(TEST hygiene.format PROPERTY ENVIRONMENT "CLANG_FORMAT=${GOSSIP_CLANG_FORMAT}")
endif()
