// tb_mx_dot: a self-checking testbench. Every output bit of the DUT is compared with
// mxlab_dot (through DPI-C) under the fused: descriptor of the datapath, on random, edge and
// golden-hex vectors (`mxlab golden --hex`, whose expected bits are compared too).
//
// Plusargs: +golden=FILE +golden_cases=N (the hex file and its case count; optional)
//           +random=N (random vectors, default 2000) +seed=S
//           +dut=ref|w_plus_1|round (which instance is checked; the mutants exist only with
//           +define+MXLAB_MUTANTS)
// Ends with "MXLAB-BENCH: PASS (...)" or "MXLAB-BENCH: FAIL (n mismatches of m ...)" and a
// non-zero exit status. To check your own RTL: tools/rtl/README.md.
`ifndef MXLAB_DUT
`define MXLAB_DUT mx_dot_unit
`endif
module tb_mx_dot;
  import mxlab_dpi::*;

  parameter int N = 32;  // elements per block (one E8M0 scale per operand)
  parameter int W = 25;  // the model's alignment width (the DUT is built with the same)
  localparam int GW = 2 * (8 * N + 8) + 64;  // golden hex word: a, sa, b, sb, c, expected

  logic [N*8-1:0] a, b;
  logic [7:0] sa, sb;
  logic [31:0] c;
  logic [31:0] d_ref, d_w, d_round, d;

  `MXLAB_DUT #(.N(N), .W(W)) dut (.a_codes(a), .b_codes(b), .a_scale(sa), .b_scale(sb), .c(c),
                                  .d(d_ref));
`ifdef MXLAB_MUTANTS
  mx_dot_unit #(.N(N), .W(W + 1)) mut_w (.a_codes(a), .b_codes(b), .a_scale(sa), .b_scale(sb),
                                         .c(c), .d(d_w));
  mx_dot_unit #(.N(N), .W(W), .TERM_ROUND(1'b1)) mut_round (.a_codes(a), .b_codes(b),
      .a_scale(sa), .b_scale(sb), .c(c), .d(d_round));
`else
  assign d_w = d_ref;
  assign d_round = d_ref;
`endif

  string which = "ref", accum, golden;
  int checked = 0, mismatches = 0, n_random = 2000, n_golden = 0, seed = 1;
  logic [GW-1:0] mem[0:4095];

  assign d = which == "w_plus_1" ? d_w : which == "round" ? d_round : d_ref;

  // The expected bits from the reference model.
  function automatic logic [31:0] expected();
    int unsigned ac[N], bc[N], out;
    byte unsigned as_[1], bs_[1];
    int rc;
    for (int i = 0; i < N; i++) begin
      ac[i] = {24'd0, a[8*i+:8]};
      bc[i] = {24'd0, b[8*i+:8]};
    end
    as_[0] = sa;
    bs_[0] = sb;
    rc = mxlab_dpi_dot(ac, as_, bc, bs_, "mxfp8_e4m3", "", N, accum, c, out);
    if (rc != 0) $fatal(1, "mxlab_dpi_dot: %0d %s", rc, mxlab_last_error());
    return out;
  endfunction

  task automatic check(input string kind, input int idx, input logic [31:0] want_file,
                       input bit has_file);
    logic [31:0] want;
    #1;
    want = expected();
    if (has_file && want_file != want)
      $fatal(1, "%s %0d: the golden file says %08h, mxlab_dot %08h", kind, idx, want_file, want);
    checked++;
    if (d !== want) begin
      mismatches++;
      if (mismatches <= 5)
        $display("MISMATCH %s %0d: a=%h sa=%02h b=%h sb=%02h c=%08h: dut %08h, mxlab %08h",
                 kind, idx, a, sa, b, sb, c, d, want);
    end
  endtask

  function automatic logic [7:0] rand_e4m3();
    logic [7:0] x = 8'($urandom);
    if (x[6:0] == 7'h7F) x[0] = 1'b0;  // NaN codes belong to the edge vectors
    return x;
  endfunction

  task automatic random_vectors();
    for (int t = 0; t < n_random; t++) begin
      for (int i = 0; i < N; i++) begin
        a[8*i+:8] = rand_e4m3();
        b[8*i+:8] = rand_e4m3();
      end
      case ($urandom % 4)
        0: begin  // scales near 1: products in the normal fp32 range
          sa = 8'(120 + $urandom % 16);
          sb = 8'(120 + $urandom % 16);
        end
        1: begin  // anywhere (overflow to the largest finite value, subnormal results)
          sa = 8'($urandom % 255);
          sb = 8'($urandom % 255);
        end
        2: begin  // cancellation: b = a with the sign of every other product flipped
          sa = 8'(110 + $urandom % 30);
          sb = sa;
          for (int i = 0; i < N; i += 2) begin
            a[8*(i+1)+:8] = a[8*i+:8];
            b[8*(i+1)+:8] = b[8*i+:8] ^ 8'h80;
            if ($urandom % 3 == 0) a[8*(i+1)+:8] = a[8*i+:8] + 8'd1;  // a near-cancellation
          end
        end
        default: begin  // tiny products: fp32 subnormal and underflowing results
          sa = 8'($urandom % 30);
          sb = 8'($urandom % 30);
        end
      endcase
      case ($urandom % 4)
        0: c = 32'd0;
        1: c = $urandom;
        2: c = {1'($urandom), 8'(120 + $urandom % 16), 23'($urandom)};
        default: c = {1'($urandom), 8'd0, 23'($urandom)};  // subnormal C
      endcase
      if (c[30:23] == 8'hFF) c[30] = 1'b0;
      check("random", t, 0, 0);
    end
  endtask

  task automatic edge_vectors();
    int t = 0;
    logic [7:0] scales[8] = '{8'd127, 8'd0, 8'd1, 8'd254, 8'd200, 8'd60, 8'd127, 8'hFF};
    logic [7:0] vals[8] = '{8'h00, 8'h80, 8'h01, 8'h87, 8'h7E, 8'hFE, 8'h7F, 8'h38};
    logic [31:0] cs[8] = '{32'h0, 32'h80000000, 32'h00000001, 32'h7F7FFFFF, 32'h7F800000,
                           32'hFF800000, 32'h7FC00000, 32'h3F800000};
    // Every element equal (zeros, -0, the smallest subnormal, a negative subnormal, the
    // largest values, NaN, 1.0) under each scale pair and C.
    foreach (vals[i])
      foreach (vals[j])
        for (int s = 0; s < 8; s++) begin
          a = {N{vals[i]}};
          b = {N{vals[j]}};
          sa = scales[s];
          sb = scales[(s + i) % 8];
          c = cs[(s + j) % 8];
          check("edge", t++, 0, 0);
        end
    // Exact cancellation with and without C; one survivor far below the others.
    for (int s = 0; s < 8; s++) begin
      for (int i = 0; i < N; i++) begin
        a[8*i+:8] = 8'h70 - 8'(i);
        b[8*i+:8] = (i % 2 == 1) ? 8'hB8 : 8'h38;  // -1, +1
      end
      for (int i = 0; i < N; i += 2) a[8*(i+1)+:8] = a[8*i+:8];
      a[8*(N-1)+:8] = 8'h01;  // the smallest subnormal survives
      sa = scales[s];
      sb = 8'd127;
      c = (s % 2 == 1) ? 32'd0 : cs[s];
      check("edge", t++, 0, 0);
    end
  endtask

  task automatic golden_vectors();
    logic [GW-1:0] word;
    for (int t = 0; t < n_golden; t++) begin
      word = mem[t];
      a = word[0+:8*N];
      sa = word[8*N+:8];
      b = word[8*N+8+:8*N];
      sb = word[16*N+8+:8];
      c = word[16*N+16+:32];
      check("golden", t, word[16*N+48+:32], 1);
    end
  endtask

  initial begin
    void'($value$plusargs("dut=%s", which));
    void'($value$plusargs("random=%d", n_random));
    void'($value$plusargs("seed=%d", seed));
    void'($urandom(seed));
    accum = $sformatf("fused:k=%0d,w=%0d,terms=toward-zero,acc=fp32,round=toward-zero,c=first",
                      N, W);
    if ($value$plusargs("golden=%s", golden)) begin
      if (!$value$plusargs("golden_cases=%d", n_golden)) $fatal(1, "+golden needs +golden_cases");
      $readmemh(golden, mem, 0, n_golden - 1);
    end
    $display("tb_mx_dot: mxlab %s, checking '%s' against %s", mxlab_version(), which, accum);
    edge_vectors();
    golden_vectors();
    random_vectors();
    if (mismatches == 0) begin
      $display("MXLAB-BENCH: PASS (%0d vectors, %0d of them golden)", checked, n_golden);
      $finish;
    end else begin
      $display("MXLAB-BENCH: FAIL (%0d mismatches of %0d vectors)", mismatches, checked);
      $fatal(1, "tb_mx_dot: the DUT differs from mxlab");
    end
  end
endmodule
