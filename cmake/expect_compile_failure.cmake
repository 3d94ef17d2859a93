# Compiles SOURCE and succeeds only if the compiler refuses it with a diagnostic that matches
# every regular expression in EXPECT (a ;-list). Run as: cmake -DCXX=... -DINCLUDE=... -DSOURCE=...
# -DEXPECT=... [-DSHOULD_COMPILE=ON] -P expect_compile_failure.cmake
execute_process(
  COMMAND "${CXX}" -std=c++20 -fsyntax-only "-I${INCLUDE}" "${SOURCE}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(SHOULD_COMPILE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "expected ${SOURCE} to compile, but it failed:\n${output}")
  endif()
  message(STATUS "compiled, as expected")
  return()
endif()

if(result EQUAL 0)
  message(FATAL_ERROR "expected ${SOURCE} to be rejected, but it compiled")
endif()
foreach(pattern IN LISTS EXPECT)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "the diagnostic for ${SOURCE} lacks /${pattern}/:\n${output}")
  endif()
endforeach()
message(STATUS "rejected with the expected diagnostic")
