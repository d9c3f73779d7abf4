/* The C ABI through libmxlab.a: a C program needs nothing but the package. */
#include <mxlab/mxlab.h>
#include <stdio.h>

int main(void) {
  const float x[4] = {1.0f, -2.5f, 0.1f, 300.0f};
  float y[4];
  if (mxlab_quantize_f32(x, 4, "mxfp4_e2m1", 32, NULL, NULL, y) != MXLAB_OK) {
    fprintf(stderr, "%s\n", mxlab_last_error());
    return 1;
  }
  printf("mxlab %s (static): %g %g %g %g\n", mxlab_version(), y[0], y[1], y[2], y[3]);
  return y[3] == 256.0f ? 0 : 1; /* 300 in blocks of amax 300: scale 2^6, e2m1 4 * 2^6 */
}
