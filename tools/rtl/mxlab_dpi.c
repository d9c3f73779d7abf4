/* The DPI-C shim of mxlab_dpi.sv: SystemVerilog open arrays to the C ABI's plain arrays. */
#include <mxlab/mxlab.h>
#include <stdlib.h>
#include <string.h>
#include <svdpi.h>

/* Simulators build this file as C or as C++ (Verilator: g++): the export is C either way. */
#ifdef __cplusplus
extern "C" {
#endif

/* Copies an open array of `bytes`-wide elements into a fresh buffer
 * (NULL for an empty array or no memory; *n gets the element count). */
static void* copy_open(const svOpenArrayHandle h, size_t bytes, size_t* n) {
  const int lo = svLow(h, 1), size = svSize(h, 1);
  unsigned char* buf;
  int i;
  *n = size > 0 ? (size_t)size : 0;
  if (*n == 0) return NULL;
  buf = (unsigned char*)malloc(*n * bytes);
  if (buf == NULL) return NULL;
  for (i = 0; i < size; ++i) memcpy(buf + (size_t)i * bytes, svGetArrElemPtr1(h, lo + i), bytes);
  return buf;
}

int mxlab_dpi_dot(const svOpenArrayHandle a_codes, const svOpenArrayHandle a_scales,
                  const svOpenArrayHandle b_codes, const svOpenArrayHandle b_scales,
                  const char* format, const char* format_b, int block_size, const char* accum,
                  unsigned int c_bits, unsigned int* out_bits) {
  size_t ka, kb, na, nb;
  uint32_t* a = (uint32_t*)copy_open(a_codes, 4, &ka);
  uint32_t* b = (uint32_t*)copy_open(b_codes, 4, &kb);
  uint8_t* sa = (uint8_t*)copy_open(a_scales, 1, &na);
  uint8_t* sb = (uint8_t*)copy_open(b_scales, 1, &nb);
  uint32_t bits = 0;
  float c;
  int rc;
  memcpy(&c, &c_bits, sizeof c);
  if (ka != kb) {
    /* Let the C ABI name the problem: a NULL b_codes reads "b_codes is NULL". */
    free(b);
    b = NULL;
  }
  rc = mxlab_dot(a, sa, b, sb, ka, format, (format_b && format_b[0]) ? format_b : NULL, block_size,
                 accum, c, &bits);
  *out_bits = bits;
  free(a);
  free(b);
  free(sa);
  free(sb);
  return rc;
}

#ifdef __cplusplus
}
#endif
