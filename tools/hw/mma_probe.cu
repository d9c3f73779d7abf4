// mma_probe: runs inline-PTX mma.sync tiles on the GPU for tools/hw/probe.py.
//
//   mma_probe OP T K a.bin b.bin c.bin d.bin
//
// OP: e4m3 | e5m2 (m16n8k32, fp32 accumulator) or f16 | bf16 (m16n8k16, fp32 accumulator).
// T tiles; each tile is A (16 x K, row-major element codes), B (8 x K: B's columns, i.e. B
// stored transposed, K contiguous), C and D (16 x 8 fp32, row-major). K is a multiple of the
// instruction's k; longer K chains instructions with D feeding the next C, as a CUTLASS-style
// mainloop does. Element codes are 1 byte (fp8) or 2 bytes (f16/bf16), little-endian.
// Fragment layouts: PTX ISA, "Matrix Fragments for mma.m16n8k32" (.e4m3/.e5m2) and
// "mma.m16n8k16" (.f16/.bf16).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <cuda_runtime.h>

#define CK(x)                                                                  \
  do {                                                                         \
    cudaError_t e_ = (x);                                                      \
    if (e_ != cudaSuccess) {                                                   \
      std::fprintf(stderr, "mma_probe: %s: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

namespace {

__device__ __forceinline__ std::uint32_t ld32(const std::uint8_t* p) {
  return *reinterpret_cast<const std::uint32_t*>(p);
}

// One warp per tile. ESZ: element size in bytes; KI: the instruction's k.
template <int OP>
__global__ void mma_tiles(const std::uint8_t* __restrict__ A, const std::uint8_t* __restrict__ B,
                          const float* __restrict__ C, float* __restrict__ D, int K) {
  constexpr int kEsz = OP < 2 ? 1 : 2;
  constexpr int kKi = OP < 2 ? 32 : 16;
  const int tile = blockIdx.x;
  const int lane = threadIdx.x;
  const int g = lane >> 2, t = lane & 3;
  const std::size_t row_bytes = static_cast<std::size_t>(K) * kEsz;
  const std::uint8_t* a = A + static_cast<std::size_t>(tile) * 16 * row_bytes;
  const std::uint8_t* b = B + static_cast<std::size_t>(tile) * 8 * row_bytes;
  const float* c = C + static_cast<std::size_t>(tile) * 128;
  float* d = D + static_cast<std::size_t>(tile) * 128;
  float d0 = c[g * 8 + t * 2], d1 = c[g * 8 + t * 2 + 1];
  float d2 = c[(g + 8) * 8 + t * 2], d3 = c[(g + 8) * 8 + t * 2 + 1];
  // Column offset (bytes) of this thread's first element, and of the upper half of k.
  const int col0 = (OP < 2 ? t * 4 : t * 2) * kEsz;
  const int half = (kKi / 2) * kEsz;
  for (int kc = 0; kc < K; kc += kKi) {
    const int off = kc * kEsz + col0;
    const std::uint32_t a0 = ld32(a + g * row_bytes + off);
    const std::uint32_t a1 = ld32(a + (g + 8) * row_bytes + off);
    const std::uint32_t a2 = ld32(a + g * row_bytes + off + half);
    const std::uint32_t a3 = ld32(a + (g + 8) * row_bytes + off + half);
    const std::uint32_t b0 = ld32(b + g * row_bytes + off);
    const std::uint32_t b1 = ld32(b + g * row_bytes + off + half);
    if constexpr (OP == 0) {
      asm volatile(
          "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
          "{%8,%9}, {%0,%1,%2,%3};\n"
          : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
          : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    } else if constexpr (OP == 1) {
      asm volatile(
          "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
          "{%8,%9}, {%0,%1,%2,%3};\n"
          : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
          : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    } else if constexpr (OP == 2) {
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
          "{%8,%9}, {%0,%1,%2,%3};\n"
          : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
          : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    } else {
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
          "{%8,%9}, {%0,%1,%2,%3};\n"
          : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
          : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    }
  }
  d[g * 8 + t * 2] = d0;
  d[g * 8 + t * 2 + 1] = d1;
  d[(g + 8) * 8 + t * 2] = d2;
  d[(g + 8) * 8 + t * 2 + 1] = d3;
}

std::vector<std::uint8_t> read_all(const char* path, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  FILE* f = std::fopen(path, "rb");
  if (!f || std::fread(v.data(), 1, n, f) != n) {
    std::fprintf(stderr, "mma_probe: %s: cannot read %zu bytes\n", path, n);
    std::exit(1);
  }
  std::fclose(f);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: mma_probe e4m3|e5m2|f16|bf16 T K a.bin b.bin c.bin d.bin\n");
    return 2;
  }
  int op = -1;
  const char* names[] = {"e4m3", "e5m2", "f16", "bf16"};
  for (int i = 0; i < 4; ++i)
    if (std::strcmp(argv[1], names[i]) == 0) op = i;
  const int tiles = std::atoi(argv[2]), k = std::atoi(argv[3]);
  const int ki = op < 2 ? 32 : 16, esz = op < 2 ? 1 : 2;
  if (op < 0 || tiles < 1 || k < ki || k % ki != 0) {
    std::fprintf(stderr, "mma_probe: bad OP, T or K\n");
    return 2;
  }
  const std::size_t na = std::size_t(tiles) * 16 * k * esz, nb = std::size_t(tiles) * 8 * k * esz;
  const std::size_t nc = std::size_t(tiles) * 128 * sizeof(float);
  auto ha = read_all(argv[4], na), hb = read_all(argv[5], nb), hc = read_all(argv[6], nc);
  std::uint8_t *da, *db;
  float *dc, *dd;
  CK(cudaMalloc(&da, na));
  CK(cudaMalloc(&db, nb));
  CK(cudaMalloc(&dc, nc));
  CK(cudaMalloc(&dd, nc));
  CK(cudaMemcpy(da, ha.data(), na, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(db, hb.data(), nb, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dc, hc.data(), nc, cudaMemcpyHostToDevice));
  switch (op) {
    case 0:
      mma_tiles<0><<<tiles, 32>>>(da, db, dc, dd, k);
      break;
    case 1:
      mma_tiles<1><<<tiles, 32>>>(da, db, dc, dd, k);
      break;
    case 2:
      mma_tiles<2><<<tiles, 32>>>(da, db, dc, dd, k);
      break;
    default:
      mma_tiles<3><<<tiles, 32>>>(da, db, dc, dd, k);
      break;
  }
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  std::vector<std::uint8_t> hd(nc);
  CK(cudaMemcpy(hd.data(), dd, nc, cudaMemcpyDeviceToHost));
  FILE* f = std::fopen(argv[7], "wb");
  if (!f || std::fwrite(hd.data(), 1, nc, f) != nc) {
    std::fprintf(stderr, "mma_probe: %s: cannot write\n", argv[7]);
    return 1;
  }
  std::fclose(f);
  return 0;
}
