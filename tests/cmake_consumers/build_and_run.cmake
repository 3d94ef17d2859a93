# Configures a consumer project in a fresh build directory, builds it and runs its program.
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=... -DMAKE_PROGRAM=... -DCXX=...
#         [-DCONFIG=...] [-DPROGRAM=consumer] [-DOPTIONS=-Dx=y] [-DEXPECT_CACHE=VAR=VALUE]
#         -P build_and_run.cmake
# OPTIONS goes to the consumer's configure step. EXPECT_CACHE then checks a cache entry: for
# instance that find_package found the package where the test installed it, not anywhere else.
foreach(required SOURCE_DIR BINARY_DIR GENERATOR CXX)
  if(NOT ${required})
    message(FATAL_ERROR "build_and_run.cmake: -D${required}=... is missing")
  endif()
endforeach()
if(NOT PROGRAM)
  set(PROGRAM consumer)
endif()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result})")
  endif()
endfunction()

file(REMOVE_RECURSE "${BINARY_DIR}")
set(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX}" ${OPTIONS})
if(MAKE_PROGRAM)
  list(APPEND configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CONFIG)
  list(APPEND configure "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
run(configure ${configure})

if(EXPECT_CACHE MATCHES "^([^=]+)=(.*)$")
  set(key "${CMAKE_MATCH_1}")
  set(want "${CMAKE_MATCH_2}")
  load_cache("${BINARY_DIR}" READ_WITH_PREFIX cached_ "${key}")
  if(NOT cached_${key} STREQUAL want)
    message(FATAL_ERROR "${key} is '${cached_${key}}', expected '${want}'")
  endif()
endif()

set(build "${CMAKE_COMMAND}" --build "${BINARY_DIR}")
if(CONFIG)
  list(APPEND build --config "${CONFIG}")
endif()
run(build ${build})

# Single-configuration generators put the program in the build directory, multi-configuration
# ones in a subdirectory per configuration.
foreach(candidate "${BINARY_DIR}/${PROGRAM}" "${BINARY_DIR}/${CONFIG}/${PROGRAM}")
  if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
    run("${PROGRAM}" "${candidate}")
    return()
  endif()
endforeach()
message(FATAL_ERROR "no program ${PROGRAM} under ${BINARY_DIR}")
