# Every place that states the version agrees with include/gossip/version.hpp: its own parts and
# version_string, project(VERSION), the Conan recipe, both vcpkg manifests, and the newest release
# heading of CHANGELOG.md.
#   cmake -DSOURCE_DIR=... -DPROJECT_VERSION=... [-DPYTHON=...] -P check_version.cmake
set(errors "")
macro(expect what actual)
  if(NOT "${actual}" STREQUAL "${version}")
    string(APPEND errors "\n  ${what} says '${actual}', version.hpp says '${version}'")
  endif()
endmacro()

file(READ "${SOURCE_DIR}/include/gossip/version.hpp" header)
foreach(part major minor patch)
  if(NOT header MATCHES "inline constexpr int version_${part} = ([0-9]+);")
    message(FATAL_ERROR "version.hpp has no version_${part}")
  endif()
  list(APPEND parts "${CMAKE_MATCH_1}")
endforeach()
list(JOIN parts "." version)
if(NOT header MATCHES "inline constexpr const char\\* version_string = \"([^\"]*)\";")
  message(FATAL_ERROR "version.hpp has no version_string")
endif()
expect("version_string" "${CMAKE_MATCH_1}")
expect("project(VERSION)" "${PROJECT_VERSION}")

foreach(manifest vcpkg.json ports/gossip/vcpkg.json)
  file(READ "${SOURCE_DIR}/${manifest}" json)
  string(JSON manifest_version ERROR_VARIABLE json_error GET "${json}" version)
  expect("${manifest}" "${manifest_version}")
endforeach()

# The newest release heading, "## [x.y.z] - date"; an "## [Unreleased]" section may precede it.
file(STRINGS "${SOURCE_DIR}/CHANGELOG.md" headings REGEX "^## \\[[0-9]")
if(NOT headings)
  message(FATAL_ERROR "CHANGELOG.md has no release heading '## [x.y.z] - date'")
endif()
list(GET headings 0 newest)
string(REGEX MATCH "\\[([^]]*)\\]" _ "${newest}")
expect("CHANGELOG.md" "${CMAKE_MATCH_1}")

# conanfile.py reads version.hpp itself. Run its set_version() with stand-ins for the conan
# modules (the client need not be installed); without Python, check that it reads the header.
set(run_recipe [=[
import importlib.util, sys, types
for name in ("conan", "conan.tools", "conan.tools.build", "conan.tools.files", "conan.tools.layout",
             "conan.tools.cmake"):
    module = types.ModuleType(name)
    module.__getattr__ = lambda attribute: (lambda *args, **kwargs: None)
    sys.modules[name] = module
sys.modules["conan"].ConanFile = object
sys.modules["conan.tools.files"].load = lambda conanfile, path, **kwargs: open(path, encoding="utf-8").read()
spec = importlib.util.spec_from_file_location("conanfile", sys.argv[1] + "/conanfile.py")
recipe_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe_module)
recipe = recipe_module.GossipConan()
recipe.recipe_folder = sys.argv[1]
recipe.set_version()
print(recipe.version)
]=])
if(PYTHON)
  execute_process(COMMAND "${PYTHON}" -B -c "${run_recipe}" "${SOURCE_DIR}"
                  RESULT_VARIABLE result OUTPUT_VARIABLE conan_version ERROR_VARIABLE python_error
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "running conanfile.py's set_version() failed:\n${python_error}")
  endif()
  expect("conanfile.py (set_version)" "${conan_version}")
else()
  file(READ "${SOURCE_DIR}/conanfile.py" recipe)
  if(NOT recipe MATCHES "\"version\\.hpp\"" OR recipe MATCHES "\n    version = ")
    string(APPEND errors "\n  conanfile.py does not take its version from version.hpp")
  endif()
endif()

if(errors)
  message(FATAL_ERROR "the version is not the same everywhere:${errors}")
endif()
message(STATUS "version ${version} everywhere")
