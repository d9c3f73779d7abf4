/* mxlab C ABI: bit-accurate OCP Microscaling (MX) quantization, dot products and GEMM for
 * C, C++, SystemVerilog DPI-C and any language with a C FFI.
 *
 * C99, no C++ types. Every function is thread-safe (no shared mutable state; each call runs on
 * the calling thread) and returns MXLAB_OK (0) or a negative MXLAB_ERR_* code. After every
 * call, mxlab_last_error() holds the calling thread's message: one line naming the function
 * and the culprit argument ("mxlab_dot: accum: unknown parameter 'kk'"), or "" on success.
 * On an error no output is written. No exception, abort or exit crosses this boundary.
 *
 * The functions are thin over the C++ library and call the same functions as the CLI, so a
 * result equals `mxlab quantize` / `mxlab gemm` bit for bit (tests/capi/ proves it):
 *   format      the CLI's --format names: mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3
 *               mxfp4_e2m1 mxint8, mx<elem> (mxint4, mxe3m4), nvfp4 (quantize only), or an
 *               element format (e4m3, bf16, int8, ...) for element-wise rounding (no scales;
 *               block_size must still be >= 1 and is ignored). NULL = "mxfp8_e4m3".
 *   rounding    nearest-even (NULL) | nearest-away | toward-zero | toward-positive |
 *               toward-negative | odd | stochastic (seed 0, keyed by element index as the CLI)
 *   scale_rule  floor (NULL, OCP) | ceil | even | rceil
 *   accum       the CLI's --accum: exact (NULL), KIND:key=value,... or PRESET[:key=value,...];
 *               `mxlab accum --list` prints the kinds, keys and presets (one table,
 *               emulator/accum_model.cpp; results/GOLDEN_VECTORS.md)
 * Elements are quantized with overflow = saturate and the OCP (not microxcaling) semantics,
 * the CLI's defaults. Blocks are block_size contiguous values; the last block may be short.
 * An input array may alias an output array of the same type (y == x).
 */
#ifndef MXLAB_MXLAB_H
#define MXLAB_MXLAB_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MXLAB_API
#else
#define MXLAB_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes (every function returns one of these).
 *   MXLAB_ERR_NULL      a required pointer argument is NULL
 *   MXLAB_ERR_SIZE      n, k or m = 0, block_size < 1, or a size too large
 *   MXLAB_ERR_FORMAT    unknown / unsupported format, format_b, output_format, rounding or
 *                       scale_rule
 *   MXLAB_ERR_ACCUM     a malformed or invalid accumulator model string
 *   MXLAB_ERR_VALUE     an element code wider than its format
 *   MXLAB_ERR_NOMEM     out of memory
 *   MXLAB_ERR_INTERNAL  an unexpected internal error (a bug: please report it) */
#define MXLAB_OK 0
#define MXLAB_ERR_NULL (-1)
#define MXLAB_ERR_SIZE (-2)
#define MXLAB_ERR_FORMAT (-3)
#define MXLAB_ERR_ACCUM (-4)
#define MXLAB_ERR_VALUE (-5)
#define MXLAB_ERR_NOMEM (-6)
#define MXLAB_ERR_INTERNAL (-7)

/* The library version, "MAJOR.MINOR.PATCH" (static storage). */
MXLAB_API const char* mxlab_version(void);

/* The calling thread's message of its last call: "" after a success (thread-local storage,
 * valid until this thread's next mxlab call). */
MXLAB_API const char* mxlab_last_error(void);

/* Fake-quantizes x[0..n) (blocks of block_size) into y[0..n): each value quantized and
 * dequantized back to float, as `mxlab quantize --output`. */
MXLAB_API int mxlab_quantize_f32(const float* x, size_t n, const char* format, int block_size,
                                 const char* rounding, const char* scale_rule, float* y);

/* Quantizes x[0..n) to element codes (one per element, low bits; `mxlab quantize
 * --codes-output` unpacked) and E8M0 scale codes (one byte per block, ceil(n / block_size)
 * bytes; 0xFF = NaN scale, the whole block decodes to NaN). For an element format, scales
 * may be NULL and is not written. E8M0-scaled MX formats and element formats only
 * (nvfp4: MXLAB_ERR_FORMAT). */
MXLAB_API int mxlab_encode_f32(const float* x, size_t n, const char* format, int block_size,
                               const char* rounding, const char* scale_rule, uint32_t* codes,
                               uint8_t* scales);

/* The values of codes[0..n) under their blocks' scales (the inverse of mxlab_encode_f32:
 * decode(encode(x)) == quantize(x) bit for bit). The exact value rounded to float (nearest
 * even). Codes must fit the element format (else MXLAB_ERR_VALUE). */
MXLAB_API int mxlab_decode(const uint32_t* codes, const uint8_t* scales, size_t n,
                           const char* format, int block_size, float* y);

/* One dot product sum_i a_i * b_i (+ c) of k codes each, with their E8M0 block scales
 * (ceil(k / block_size) bytes each; NULL allowed for element formats), under `accum`, as one
 * output element of `mxlab gemm`. format_b: B's format (NULL = format); element formats of
 * up to 16 bits. c enters as an fp32 value (0 for none). *out_bits: the fp32 bit pattern of
 * the result (the CLI's default --output-format fp32, rounding nearest-even). */
MXLAB_API int mxlab_dot(const uint32_t* a_codes, const uint8_t* a_scales, const uint32_t* b_codes,
                        const uint8_t* b_scales, size_t k, const char* format, const char* format_b,
                        int block_size, const char* accum, float c, uint32_t* out_bits);

/* out = A * B (+ C) as `mxlab gemm`: row-major a (m x k) and b (k x n) quantized along k
 * (A by rows, B by columns), c (m x n) or NULL, out (m x n). output_format: the rounding
 * target of each output (NULL = the model's out=, fp32 unless given; bf16, fp16, eXmY; a
 * value that differs from an out= in accum is an error), rounded with the model's out-round=
 * (nearest-even unless given) and stored as its float value. For element formats with infinities,
 * +-Inf inputs stay +-Inf. */
MXLAB_API int mxlab_gemm_f32(const float* a, const float* b, const float* c, float* out, size_t m,
                             size_t n, size_t k, const char* format, const char* format_b,
                             int block_size, const char* accum, const char* output_format);

#ifdef __cplusplus
}
#endif

#endif /* MXLAB_MXLAB_H */
