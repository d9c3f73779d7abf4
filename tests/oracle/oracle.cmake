# mx_oracle: independent reference model of the OCP MX v1.0 formats
# (tests/oracle/).  Include from the top-level CMakeLists.txt after project()
# and enable_testing():
#     include(${PROJECT_SOURCE_DIR}/tests/oracle/oracle.cmake)
# It depends on Boost headers (multiprecision) only; nothing from formats/.
include_guard(GLOBAL)

find_package(Boost REQUIRED)  # header-only: boost/multiprecision
find_package(GTest REQUIRED)
include(GoogleTest)

add_library(mx_oracle STATIC ${PROJECT_SOURCE_DIR}/tests/oracle/oracle.cpp
                             ${PROJECT_SOURCE_DIR}/tests/oracle/oracle_dot.cpp)
target_include_directories(mx_oracle PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_features(mx_oracle PUBLIC cxx_std_20)
target_link_libraries(mx_oracle PUBLIC Boost::headers)
# -O2 always: fill_expected_codes must stay fast (exhaustive 2^32 sweeps) even
# in Debug builds.  Targets that use Rational in their own sources should be
# optimised too: the linker may keep their copy of the (inline, templated)
# Boost.Multiprecision functions for the whole program.
target_compile_options(mx_oracle PRIVATE -O2 -Wall -Wextra -Werror -ffp-contract=off)

add_executable(oracle_selftest ${PROJECT_SOURCE_DIR}/tests/oracle/oracle_selftest.cpp)
target_link_libraries(oracle_selftest PRIVATE mx_oracle GTest::gtest_main)
target_compile_options(oracle_selftest PRIVATE -O2 -Wall -Wextra -Werror -ffp-contract=off)
gtest_discover_tests(oracle_selftest PROPERTIES LABELS quick)
