// Weight-stationary R×C PE array (int8 operands, int32 accumulation) in S chained stages,
// the core of the systolic model. Rows index the reduction dimension K, columns the output
// dimension N; input vectors (one M index each) stream in from the left, partial sums flow
// down and leave at the bottom of each column. Stage s holds rows s·P .. s·P+P-1 (P = R/S).
//
// Protocol (timing in clock edges; one fold):
//   preload: R edges with w_load = 1; each edge shifts the weight rows down by one and
//            puts w_in into row 0, so the row loaded first ends in row R-1 (the weight
//            chain has no stage registers).
//   stream:  the caller skews the inputs (as SCALE-Sim's demand matrices do): element k
//            of vector t is on a_in[k] with a_valid[k] = 1 before edge t + k + k/P of the
//            stream (one more edge per stage boundary above row k). PE(k,c) multiplies at
//            edge t + k + k/P + c; the sum for (t,c) is shown on out[c] with out_valid[c]
//            after edge t + (R-1) + (S-1) + c.
//   So a fold of T vectors takes R + (T + R + C - 2) + (S - 1) edges: SCALE-Sim v2's ws
//   fold, plus one per stage boundary.
//
// Stage boundaries: between stage s and s+1 a register per column latches the stage's
// partial sum, its valid bit and its output-mask bit, so the mask (the output-sparsity
// metadata) enters stage 0 on `mask` and travels stage to stage with the data.
// stage_on[s] = 0 (no K row of this fold reaches stage s): the stage is bypassed (its
// boundary register takes the partial sum arriving from above, and with the last stage off
// `out` shows the last boundary register), its PEs are gated as masked ones are and its
// partial-sum registers are not clocked. A fold
// using only the first a stages therefore takes a·P instead of R rows in the partial-sum
// path.
//
// Output mask (one bit per column = per output index n): operand isolation. A PE's
// multiplier input is a_left while its column is unmasked for its stage (and a hold
// register copies it); while masked the input is the hold register, so it does not
// toggle, and the PE passes the partial sum on unchanged: masked outputs are 0. Inputs
// still travel right through the forwarding registers, which the unmasked columns need.
// mul_a exposes every PE's multiplier input (the weight, its other input, is stationary)
// so a test can count toggles.
module pe_array #(
    parameter int R = 4,
    parameter int C = 4,
    parameter int S = 1
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  w_load,
    input  logic [C*8-1:0]        w_in,
    input  logic [R*8-1:0]        a_in,
    input  logic [R-1:0]          a_valid,
    input  logic [C-1:0]          mask,
    input  logic [S-1:0]          stage_on,
    output logic [C*32-1:0]       out,
    output logic [C-1:0]          out_valid,
    output logic [R*C*8-1:0]      mul_a
);
  localparam int P = R / S;                 // rows per stage
  localparam int NB = (S > 1) ? S - 1 : 1;  // stage-boundary registers (a spare one with one stage)

  logic signed [7:0]  w     [R][C];  // stationary weights
  logic signed [7:0]  a_fwd [R][C];  // input forwarded to the right
  logic               v_fwd [R][C];  // its valid bit
  logic signed [7:0]  hold  [R][C];  // last multiplier input, kept while gated
  logic signed [7:0]  mul_in[R][C];  // multiplier input (operand-isolation mux)
  logic               gate  [R][C];  // PE bypassed: column masked in its stage, or stage off
  logic signed [31:0] up    [R][C];  // partial sum entering the PE from above
  logic signed [31:0] psum  [R][C];  // partial sum passed down
  logic               pv    [R][C];  // partial sum valid
  /* verilator lint_off UNUSEDSIGNAL */  // with S = 1 the boundary registers are never read
  logic signed [31:0] b_psum[NB][C];  // partial sum latched at a stage boundary
  logic               b_pv  [NB][C];  // its valid bit
  logic               b_m   [NB][C];  // its mask bit
  /* verilator lint_on UNUSEDSIGNAL */
  logic signed [31:0] s_psum[S][C];  // what leaves stage s (its last row, or its bypass)
  logic               s_pv  [S][C];
  logic               s_m   [S][C];  // mask bit stage s works with

  always_comb begin
    for (int s = 0; s < S; s++)
      for (int c = 0; c < C; c++) begin
        s_m[s][c] = (s == 0) ? mask[c] : b_m[(s == 0) ? 0 : s - 1][c];
        if (stage_on[s]) begin
          s_psum[s][c] = psum[s * P + P - 1][c];
          s_pv[s][c] = pv[s * P + P - 1][c];
        end else begin
          s_psum[s][c] = (s == 0) ? 32'sd0 : b_psum[(s == 0) ? 0 : s - 1][c];
          s_pv[s][c] = (s == 0) ? pv[P - 1][c] : b_pv[(s == 0) ? 0 : s - 1][c];
        end
      end
    for (int k = 0; k < R; k++)
      for (int c = 0; c < C; c++) begin
        gate[k][c] = s_m[k / P][c] | ~stage_on[k / P];
        mul_in[k][c] = gate[k][c] ? hold[k][c] : ((c == 0) ? a_in[k*8+:8] : a_fwd[k][(c == 0) ? 0 : c - 1]);
        if (k == 0) up[k][c] = 32'sd0;
        else if (k % P == 0) up[k][c] = b_psum[k / P - 1][c];
        else up[k][c] = psum[k - 1][c];
      end
  end

  always_ff @(posedge clk) begin
    for (int k = 0; k < R; k++) begin
      for (int c = 0; c < C; c++) begin
        logic signed [7:0] a_left;
        logic v_left;
        a_left = (c == 0) ? a_in[k*8+:8] : a_fwd[k][(c == 0) ? 0 : c - 1];
        v_left = (c == 0) ? a_valid[k] : v_fwd[k][(c == 0) ? 0 : c - 1];
        if (rst) begin
          w[k][c] <= '0;
          a_fwd[k][c] <= '0;
          v_fwd[k][c] <= 1'b0;
          hold[k][c] <= '0;
          psum[k][c] <= '0;
          pv[k][c] <= 1'b0;
        end else begin
          if (w_load) w[k][c] <= (k == 0) ? w_in[c*8+:8] : w[(k == 0) ? 0 : k - 1][c];
          a_fwd[k][c] <= a_left;
          v_fwd[k][c] <= v_left;
          hold[k][c] <= mul_in[k][c];
          if (stage_on[k / P]) begin  // an idle stage's partial-sum registers are not clocked
            pv[k][c] <= v_left;
            psum[k][c] <= gate[k][c] ? up[k][c] : up[k][c] + 32'(mul_in[k][c]) * 32'(w[k][c]);
          end
        end
      end
    end
    for (int b = 0; b < NB; b++)
      for (int c = 0; c < C; c++)
        if (rst || S == 1) begin
          b_psum[b][c] <= '0;
          b_pv[b][c] <= 1'b0;
          b_m[b][c] <= 1'b0;
        end else begin
          b_psum[b][c] <= s_psum[b][c];
          b_pv[b][c] <= s_pv[b][c];
          b_m[b][c] <= s_m[b][c];
        end
  end

  always_comb begin
    for (int c = 0; c < C; c++) begin
      out[c*32+:32] = s_psum[S-1][c];
      out_valid[c] = s_pv[S-1][c];
      for (int k = 0; k < R; k++) mul_a[(k*C+c)*8+:8] = mul_in[k][c];
    end
  end
endmodule
