// mxlab_dpi: the mxlab reference model for SystemVerilog testbenches, through DPI-C.
// Link the simulation with mxlab_dpi.c and libmxlab (README.md in this folder).
package mxlab_dpi;
  // The library version ("0.1.0") and the calling thread's last error ("" after a success).
  import "DPI-C" function string mxlab_version();
  import "DPI-C" function string mxlab_last_error();

  // One dot product of k = a_codes.size() element codes per operand with their E8M0 block
  // scales (ceil(k / block_size) bytes each; empty for element formats), as one output of
  // `mxlab gemm`: out_bits = the fp32 bit pattern. format_b "" = format; accum: the CLI's
  // --accum string (presets or fused:k=..,w=..). Returns 0 or a negative mxlab error code.
  import "DPI-C" function int mxlab_dpi_dot(
    input int unsigned a_codes[], input byte unsigned a_scales[],
    input int unsigned b_codes[], input byte unsigned b_scales[],
    input string format, input string format_b, input int block_size, input string accum,
    input int unsigned c_bits, output int unsigned out_bits);
endpackage
