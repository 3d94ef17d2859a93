# Compiles and runs SOURCE with the flags that `pkg-config --cflags gossip` and `--libs` give for
# the install whose .pc file is in PC_DIR, the way a Makefile would. Prints "SKIPPED" and stops
# when pkg-config is missing.
#   cmake -DPKG_CONFIG=... -DPC_DIR=... -DCXX=... -DSOURCE=... -DBINARY_DIR=... -DVERSION=...
#         -P pkg_config.cmake
if(NOT PKG_CONFIG OR NOT EXISTS "${PKG_CONFIG}")
  message("SKIPPED: pkg-config is not installed")
  return()
endif()

# Only the install under test, never a gossip.pc installed elsewhere on the machine.
set(ENV{PKG_CONFIG_PATH} "${PC_DIR}")
set(ENV{PKG_CONFIG_LIBDIR} "${PC_DIR}")

function(pkg_config out)
  execute_process(COMMAND "${PKG_CONFIG}" ${ARGN} gossip RESULT_VARIABLE result OUTPUT_VARIABLE output
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "pkg-config ${ARGN} gossip failed (${result})")
  endif()
  set(${out} "${output}" PARENT_SCOPE)
endfunction()

pkg_config(version --modversion)
if(NOT version STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config says gossip ${version}, the project is ${VERSION}")
endif()
pkg_config(cflags --cflags)
pkg_config(libs --libs)
message(STATUS "pkg-config --cflags gossip: ${cflags}")
message(STATUS "pkg-config --libs gossip: ${libs}")
separate_arguments(cflags UNIX_COMMAND "${cflags}")
separate_arguments(libs UNIX_COMMAND "${libs}")

file(MAKE_DIRECTORY "${BINARY_DIR}")
set(program "${BINARY_DIR}/consumer")
execute_process(COMMAND "${CXX}" -std=c++20 ${cflags} "${SOURCE}" ${libs} -o "${program}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "compiling ${SOURCE} failed (${result})")
endif()
execute_process(COMMAND "${program}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${program} failed (${result})")
endif()
