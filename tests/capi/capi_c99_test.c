/* The C ABI from C99 (compiled with -std=c99 -pedantic): the header is plain C, and a C
 * program quantizes, encodes, decodes, multiplies and reads errors through it. */
#include <mxlab/mxlab.h>
#include <stdio.h>
#include <string.h>

static int fail(const char* what) {
  fprintf(stderr, "capi_c99_test: %s: %s\n", what, mxlab_last_error());
  return 1;
}

int main(void) {
  float x[40], y[40], d[40], a[2 * 40], b[40 * 3], out[2 * 3];
  uint32_t codes[40], bits = 0;
  uint8_t scales[2];
  size_t i;
  for (i = 0; i < 40; ++i) x[i] = (float)i * 0.37f - 7.0f;
  for (i = 0; i < 80; ++i) a[i] = (float)(i % 13) * 0.5f - 3.0f;
  for (i = 0; i < 120; ++i) b[i] = (float)(i % 7) * 0.25f - 0.75f;
  if (strcmp(mxlab_version(), "") == 0) return fail("version");
  if (mxlab_quantize_f32(x, 40, "mxfp4_e2m1", 32, NULL, NULL, y) != MXLAB_OK)
    return fail("quantize");
  if (mxlab_encode_f32(x, 40, "mxfp4_e2m1", 32, NULL, NULL, codes, scales) != MXLAB_OK)
    return fail("encode");
  if (mxlab_decode(codes, scales, 40, "mxfp4_e2m1", 32, d) != MXLAB_OK) return fail("decode");
  if (memcmp(d, y, sizeof d) != 0) return fail("decode(encode(x)) != quantize(x)");
  if (mxlab_dot(codes, scales, codes, scales, 40, "mxfp4_e2m1", NULL, 32, "h100-mma", 1.0f,
                &bits) != MXLAB_OK)
    return fail("dot");
  if (mxlab_gemm_f32(a, b, NULL, out, 2, 3, 40, "mxfp8_e4m3", NULL, 32, "h100-wgmma", NULL) !=
      MXLAB_OK)
    return fail("gemm");
  if (mxlab_quantize_f32(x, 40, "mxfp4_e2m1", 0, NULL, NULL, y) != MXLAB_ERR_SIZE)
    return fail("block size 0 accepted");
  if (strstr(mxlab_last_error(), "block_size") == NULL) return fail("message");
  printf("mxlab %s: dot = 0x%08x, gemm[0] = %g\n", mxlab_version(), (unsigned)bits, out[0]);
  return 0;
}
