// GEMM of MX operands under an AccumModel: C = A * B (+ C0), A M x K, B K x N, both blocked
// along K. Every output element is one dot() (emulator/dot.hpp) whatever the tiling or the
// thread count, so results are bit-identical for any --threads. Fast kernels (fp32-seq:
// gemm_kernel_f32.cpp, exact: gemm_kernel_exact.cpp, fused presets: gemm_kernel_fused.cpp;
// AVX-512, AVX2 or scalar, chosen at run time) are used only where they provably compute the
// model's value (gemm.cpp checks their preconditions) and are tested equal to the generic path
// (tests/emulator/gemm_fast_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "emulator/accum_model.hpp"
#include "emulator/tensor.hpp"
#include "formats/block_quant.hpp"

namespace mx {

// R rows of K element codes, blocked along K (block 0: no shared scale, scales unused).
struct MxMatrix {
  ElemFormat elem;
  int block = 0;
  std::size_t rows = 0, k = 0;
  std::vector<std::uint32_t> codes;  // rows * k, row-major
  std::vector<std::uint8_t> scales;  // rows * ceil(k / block) E8M0 codes
  std::size_t blocks_per_row() const {
    return block > 0 ? (k + static_cast<std::size_t>(block) - 1) / static_cast<std::size_t>(block)
                     : 0;
  }
};

// Quantizes a rank-2 tensor along K with `spec` (E8M0 scales or element-wise only).
// k_axis = 1: t is R x K (A); k_axis = 0: t is K x R (B), stored transposed. Throws
// std::invalid_argument naming `what` for a bad rank or an unsupported scale format.
MxMatrix quantize_operand(const Tensor& t, int k_axis, const BlockSpec& spec, int threads,
                          const char* what);

// Builds an MxMatrix from codes and scales directly (golden vectors, tests).
MxMatrix make_operand(const ElemFormat& elem, int block, std::size_t rows, std::size_t k,
                      std::vector<std::uint32_t> codes, std::vector<std::uint8_t> scales);

// Instruction set of the fast kernels: kAuto picks the best the CPU has at run time
// (AVX-512, else AVX2/FMA, else portable scalar code); the others cap it (tests, benchmarks).
// Every choice gives the same bits.
enum class GemmIsa : std::uint8_t { kAuto, kScalar, kAvx2, kAvx512 };

struct GemmOptions {
  AccumModel model;
  int threads = 1;
  bool allow_fast = true;  // false: the generic path only (tests compare the two)
  GemmIsa isa = GemmIsa::kAuto;
};

// Output codes in model.out, M x N row-major. a: M x K, b: N x K (B transposed), c0: M x N
// fp32 values or empty. Throws std::invalid_argument for a K or block-size mismatch.
std::vector<std::uint32_t> gemm(const MxMatrix& a, const MxMatrix& b, const std::vector<float>& c0,
                                const GemmOptions& opt);

// Which kernel gemm() would use: "generic", or a fast kernel and its instruction set
// ("fma-f32/avx512", "exact-blocks/avx2", ...).
const char* gemm_kernel_name(const MxMatrix& a, const MxMatrix& b, const GemmOptions& opt);

}  // namespace mx
