# mx_options: an interface target every mxlab target links. It pins floating-point code
# generation (no contraction into FMA, no fast-math: bit accuracy depends on it), sets the
# warning level, and adds the sanitizers when MX_SANITIZE is on.
add_library(mx_options INTERFACE)
target_compile_features(mx_options INTERFACE cxx_std_20)
target_compile_options(mx_options INTERFACE -ffp-contract=off -fno-fast-math
                       -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
if(MX_WERROR)
  target_compile_options(mx_options INTERFACE -Werror)
endif()
if(MX_SANITIZE)
  target_compile_options(mx_options INTERFACE -fsanitize=address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(mx_options INTERFACE -fsanitize=address,undefined)
endif()
if(MX_FUZZ)
  target_compile_options(mx_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
  target_link_options(mx_options INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(mx_options INTERFACE ${PROJECT_SOURCE_DIR})
# One Eigen heap alignment for every translation unit: the model forward pass
# (experiments/model) compiles Eigen for AVX2 (32-byte packets) and passes matrices to code
# compiled without it; with mixed defaults (16 vs 32) Eigen's inline aligned_malloc/free
# would differ between translation units (an ODR violation that corrupts the heap).
target_compile_definitions(mx_options INTERFACE EIGEN_MAX_ALIGN_BYTES=32)
