// mx_dot_unit: an example MX dot-product datapath, the kind of unit the DPI-C kit checks.
//
// One block of N fp8 e4m3 codes times N fp8 e4m3 codes, each operand with one shared E8M0
// scale, plus an fp32 addend C, in one fused step as a tensor core adds: every non-zero
// product and C are aligned to the largest alignment exponent E among them, cut to multiples
// of 2^(E - W) by truncation (the bits shifted out are dropped), summed exactly in a W+10 bit
// two's-complement adder, and the sum is rounded toward zero to fp32 (fp32's exponent range,
// subnormals kept, an overflow clamps to the largest finite value). Combinational.
//
// It implements the mxlab accumulator model (emulator/accum_model.hpp, kFused)
//   fused:k=N,w=W,terms=toward-zero,acc=fp32,round=toward-zero,c=first
// with the alignment exponent of an element = floor(log2 |x|), at least e4m3's emin (-6),
// and of a product = the sum of its operands' plus both scale exponents; C's is
// max(floor(log2 |C|), -126). NaN codes, a NaN scale (0xFF) or a NaN C give NaN (0x7FC00000);
// an infinite C gives that infinity. No participant (all products zero, C zero) gives +0.
//
// TERM_ROUND = 1 rounds the shifted-out bits (to nearest, ties away) instead of truncating:
// a deliberate datapath bug the mutation test (tests/capi) expects the testbench to catch.
module mx_dot_unit #(
    parameter int N = 32,
    parameter int W = 25,
    parameter bit TERM_ROUND = 1'b0
) (
    input  logic [N*8-1:0] a_codes,  // element i in bits [8i+7 : 8i]
    input  logic [N*8-1:0] b_codes,
    input  logic [    7:0] a_scale,  // E8M0: 2^(code - 127), 0xFF = NaN
    input  logic [    7:0] b_scale,
    input  logic [   31:0] c,        // fp32 addend
    output logic [   31:0] d         // fp32 result
);
  localparam int SW = W + 10;  // |product terms| < 2^(W+2), |C| < 2^(W+1), 33 terms, a sign

  typedef struct packed {
    logic nan;
    logic neg;
    logic [23:0] sig;  // value = (-1)^neg * sig * 2^lsb
    int lsb;
    int align;
  } term_t;

  // OCP e4m3: bias 7, S.1111.111 = NaN, no infinities, subnormals 0.mmm * 2^-6.
  function automatic term_t dec_e4m3(input logic [7:0] x);
    term_t t;
    t.nan = (x[6:0] == 7'h7F);
    t.neg = x[7];
    if (x[6:3] == 4'd0) begin
      t.sig = {21'd0, 3'(x[2:0])};
      t.lsb = -9;
      t.align = -6;
    end else begin
      t.sig = {20'd0, 1'b1, x[2:0]};
      t.align = int'(x[6:3]) - 7;
      t.lsb = t.align - 3;
    end
    return t;
  endfunction

  // The term cut to a multiple of 2^(e - W): sig * 2^(lsb - e + W), truncated (or rounded).
  function automatic logic signed [SW-1:0] cut(input term_t t, input int e);
    logic [SW+24:0] m;
    int sh;
    logic signed [SW-1:0] q;
    sh = t.lsb - e + W;
    m = '0;
    if (sh >= 0) begin
      m = (SW + 25)'(t.sig) << sh;  // sh <= W - 6 for products, W - 23 for C
    end else if (-sh <= 25) begin
      m = (SW + 25)'(t.sig) >> (-sh);
      if (TERM_ROUND && ((t.sig >> (-sh - 1)) & 24'd1) != 0) m = m + 1'b1;
    end
    q = SW'(m);
    return t.neg ? -q : q;
  endfunction

  always_comb begin
    term_t p[N];
    term_t ta, tb, tc;
    logic any_nan, c_inf, c_part, any;
    int sexp, e, lz, ve, sh;
    logic signed [SW-1:0] s;
    logic [SW-1:0] mag;
    logic [SW+23:0] norm;
    logic [22:0] man;

    any_nan = (a_scale == 8'hFF) || (b_scale == 8'hFF);
    sexp = int'(a_scale) + int'(b_scale) - 254;
    any = 1'b0;
    e = 0;
    for (int i = 0; i < N; i++) begin
      ta = dec_e4m3(a_codes[8*i+:8]);
      tb = dec_e4m3(b_codes[8*i+:8]);
      any_nan = any_nan | ta.nan | tb.nan;
      p[i].nan = 1'b0;
      p[i].neg = ta.neg ^ tb.neg;
      p[i].sig = ta.sig * tb.sig;
      p[i].lsb = ta.lsb + tb.lsb + sexp;
      p[i].align = ta.align + tb.align + sexp;
      if (p[i].sig != 0 && (!any || p[i].align > e)) begin
        e = p[i].align;
        any = 1'b1;
      end
    end
    // C (fp32): it joins the alignment when non-zero.
    tc.nan = (c[30:23] == 8'hFF) && (c[22:0] != 0);
    c_inf = (c[30:23] == 8'hFF) && (c[22:0] == 0);
    tc.neg = c[31];
    if (c[30:23] == 8'd0) begin
      tc.sig = {1'b0, c[22:0]};
      tc.align = -126;
    end else begin
      tc.sig = {1'b1, c[22:0]};
      tc.align = int'(c[30:23]) - 127;
    end
    tc.lsb = tc.align - 23;
    c_part = (c[30:0] != 0) && !c_inf && !tc.nan;
    if (c_part && (!any || tc.align > e)) e = tc.align;
    any = any | c_part;

    s = '0;
    for (int i = 0; i < N; i++) if (p[i].sig != 0) s = s + cut(p[i], e);
    if (c_part) s = s + cut(tc, e);

    d = 32'd0;
    lz = 0;
    ve = 0;
    sh = 0;
    norm = '0;
    man = '0;
    mag = s[SW-1] ? SW'(-s) : SW'(s);
    if (any_nan || tc.nan) begin
      d = 32'h7FC00000;
    end else if (c_inf) begin
      d = {c[31], 8'hFF, 23'd0};
    end else if (any && s != 0) begin
      for (int i = 0; i < SW; i++) if (mag[i]) lz = i;  // the leading one of |S|
      ve = lz + e - W;  // |S| * 2^(e - W) = 1.xxx * 2^ve
      if (ve > 127) begin
        d = {s[SW-1], 8'hFE, 23'h7FFFFF};  // toward zero: the largest finite value
      end else if (ve >= -126) begin
        norm = (SW + 24)'(mag) << (SW + 23 - lz);  // leading one at the top
        man = norm[SW+22-:23];  // the next 23 bits; the rest is truncated
        d = {s[SW-1], 8'(ve + 127), man};
      end else begin
        sh = e - W + 149;  // units of 2^-149
        if (sh >= 0) man = 23'(mag << sh);
        else if (-sh < SW) man = 23'(mag >> (-sh));
        else man = 23'd0;
        d = {s[SW-1], 8'd0, man};  // an underflow to zero keeps the sign of S
      end
    end
  end
endmodule
