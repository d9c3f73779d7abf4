// wgmma_probe: runs inline-PTX wgmma.mma_async tiles (sm_90a) for tools/hw/wgmma_probe.py.
//
//   wgmma_probe AB T K LBO SBO a.bin b.bin c.bin d.bin
//
// AB: e4m3e4m3 | e4m3e5m2 | e5m2e4m3 | e5m2e5m2. One warpgroup (128 threads) per tile; each
// tile is A (64 x K codes, row-major), B (64 x K: B's columns, K contiguous), C and D (64 x 64
// fp32, row-major). The instruction is wgmma.mma_async.sync.aligned.m64n64k32.f32.A.B with
// both operands in shared memory (K-major, no swizzle: core matrices of 8 rows x 16 bytes),
// the fp32 accumulator registers start as C and every k-block of 32 is one more wgmma on
// them (scale-d = 1), so K > 32 is a chain of instructions, as a mainloop issues them.
// LBO / SBO: the descriptor's leading / stride byte offsets for the layout below (the driver
// runs both assignments and keeps the one that reproduces a plain product; a wrong one reads
// other elements and is far off).
// Accumulator layout (PTX ISA, "wgmma register fragment" for m64nNk*, .f32): warp w of the
// warpgroup holds rows 16w..16w+15; register i of lane l is row 16w + l/4 + 8*((i/2)%2),
// column 8*(i/4) + 2*(l%4) + i%2.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <cuda_runtime.h>

#define CK(x)                                                                    \
  do {                                                                           \
    cudaError_t e_ = (x);                                                        \
    if (e_ != cudaSuccess) {                                                     \
      std::fprintf(stderr, "wgmma_probe: %s: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                              \
    }                                                                            \
  } while (0)

namespace {

constexpr int kM = 64, kN = 64, kKb = 32;  // instruction shape
// Shared layout of one 64 x 32-byte block: row r, byte c at (r/8)*256 + (c/16)*128 +
// (r%8)*16 + c%16, i.e. per 8-row group two core matrices (k bytes 0-15, 16-31).
__device__ __forceinline__ int smem_off(int r, int c) {
  return (r >> 3) * 256 + (c >> 4) * 128 + (r & 7) * 16 + (c & 15);
}

__device__ __forceinline__ std::uint64_t desc(const void* p, int lbo, int sbo) {
  const std::uint32_t a = static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
  std::uint64_t d = 0;
  d |= static_cast<std::uint64_t>((a >> 4) & 0x3FFF);
  d |= static_cast<std::uint64_t>((lbo >> 4) & 0x3FFF) << 16;
  d |= static_cast<std::uint64_t>((sbo >> 4) & 0x3FFF) << 32;
  return d;  // base offset 0, swizzle mode 0 (none)
}

#define WG_REGS                                                                            \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, " \
  "%19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define WG_OUTS(d)                                                                                \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
      "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]),    \
      "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),  \
      "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]),  \
      "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define WG_MMA(TA, TB)                                                             \
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k32.f32." TA "." TB " " WG_REGS \
               ", %32, %33, 1, 1, 1;\n"                                            \
               : WG_OUTS(d)                                                        \
               : "l"(da), "l"(db)                                                  \
               : "memory")

template <int AB>
__global__ void __launch_bounds__(128)
    wgmma_tiles(const std::uint8_t* __restrict__ A, const std::uint8_t* __restrict__ B,
                const float* __restrict__ C, float* __restrict__ D, int K, int lbo, int sbo) {
  __shared__ __align__(128) std::uint8_t sa[kM * kKb];
  __shared__ __align__(128) std::uint8_t sb[kN * kKb];
  const int tile = blockIdx.x, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const std::uint8_t* a = A + static_cast<std::size_t>(tile) * kM * K;
  const std::uint8_t* b = B + static_cast<std::size_t>(tile) * kN * K;
  const float* c = C + static_cast<std::size_t>(tile) * kM * kN;
  float* dout = D + static_cast<std::size_t>(tile) * kM * kN;
  float d[32];
  for (int i = 0; i < 32; ++i) {
    const int r = 16 * warp + lane / 4 + 8 * ((i / 2) % 2),
              col = 8 * (i / 4) + 2 * (lane % 4) + i % 2;
    d[i] = c[r * kN + col];
  }
  for (int kb = 0; kb < K; kb += kKb) {
    __syncthreads();  // the previous wgmma has completed (wait_group 0) in every warp
    for (int x = tid; x < kM * kKb; x += 128) {
      const int r = x / kKb, cc = x % kKb;
      sa[smem_off(r, cc)] = a[static_cast<std::size_t>(r) * K + kb + cc];
      sb[smem_off(r, cc)] = b[static_cast<std::size_t>(r) * K + kb + cc];
    }
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    const std::uint64_t da = desc(sa, lbo, sbo), db = desc(sb, lbo, sbo);
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
    if constexpr (AB == 0) WG_MMA("e4m3", "e4m3");
    if constexpr (AB == 1) WG_MMA("e4m3", "e5m2");
    if constexpr (AB == 2) WG_MMA("e5m2", "e4m3");
    if constexpr (AB == 3) WG_MMA("e5m2", "e5m2");
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" : WG_OUTS(d) : : "memory");
  }
  for (int i = 0; i < 32; ++i) {
    const int r = 16 * warp + lane / 4 + 8 * ((i / 2) % 2),
              col = 8 * (i / 4) + 2 * (lane % 4) + i % 2;
    dout[r * kN + col] = d[i];
  }
}

std::vector<std::uint8_t> read_all(const char* path, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  FILE* f = std::fopen(path, "rb");
  if (!f || std::fread(v.data(), 1, n, f) != n) {
    std::fprintf(stderr, "wgmma_probe: %s: cannot read %zu bytes\n", path, n);
    std::exit(1);
  }
  std::fclose(f);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr,
                 "usage: wgmma_probe e4m3e4m3|e4m3e5m2|e5m2e4m3|e5m2e5m2 T K LBO SBO a b c d\n");
    return 2;
  }
  int ab = -1;
  const char* names[] = {"e4m3e4m3", "e4m3e5m2", "e5m2e4m3", "e5m2e5m2"};
  for (int i = 0; i < 4; ++i)
    if (std::strcmp(argv[1], names[i]) == 0) ab = i;
  const int tiles = std::atoi(argv[2]), k = std::atoi(argv[3]);
  const int lbo = std::atoi(argv[4]), sbo = std::atoi(argv[5]);
  if (ab < 0 || tiles < 1 || k < kKb || k % kKb != 0) {
    std::fprintf(stderr, "wgmma_probe: bad AB, T or K\n");
    return 2;
  }
  const std::size_t na = std::size_t(tiles) * kM * k, nb = std::size_t(tiles) * kN * k;
  const std::size_t nc = std::size_t(tiles) * kM * kN * sizeof(float);
  auto ha = read_all(argv[6], na), hb = read_all(argv[7], nb), hc = read_all(argv[8], nc);
  std::uint8_t *da, *db;
  float *dc, *dd;
  CK(cudaMalloc(&da, na));
  CK(cudaMalloc(&db, nb));
  CK(cudaMalloc(&dc, nc));
  CK(cudaMalloc(&dd, nc));
  CK(cudaMemcpy(da, ha.data(), na, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(db, hb.data(), nb, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dc, hc.data(), nc, cudaMemcpyHostToDevice));
  switch (ab) {
    case 0:
      wgmma_tiles<0><<<tiles, 128>>>(da, db, dc, dd, k, lbo, sbo);
      break;
    case 1:
      wgmma_tiles<1><<<tiles, 128>>>(da, db, dc, dd, k, lbo, sbo);
      break;
    case 2:
      wgmma_tiles<2><<<tiles, 128>>>(da, db, dc, dd, k, lbo, sbo);
      break;
    default:
      wgmma_tiles<3><<<tiles, 128>>>(da, db, dc, dd, k, lbo, sbo);
      break;
  }
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  std::vector<std::uint8_t> hd(nc);
  CK(cudaMemcpy(hd.data(), dd, nc, cudaMemcpyDeviceToHost));
  FILE* f = std::fopen(argv[9], "wb");
  if (!f || std::fwrite(hd.data(), 1, nc, f) != nc) {
    std::fprintf(stderr, "wgmma_probe: %s: cannot write\n", argv[9]);
    return 1;
  }
  std::fclose(f);
  return 0;
}
