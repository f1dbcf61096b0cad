// Weight-stationary R×C PE array (int8 operands, int32 accumulation), the core of the
// systolic model. Rows index the reduction dimension K, columns the output dimension N;
// input vectors (one M index each) stream in from the left, partial sums flow down and
// leave at the bottom of each column.
//
// Protocol (timing in clock edges; one fold):
//   preload: R edges with w_load = 1; each edge shifts the weight rows down by one and
//            puts w_in into row 0, so the row loaded first ends in row R-1.
//   stream:  the caller skews the inputs (as SCALE-Sim's demand matrices do): element k of
//            vector t is on a_in[k] with a_valid[k] = 1 before edge t + k of the stream.
//            PE(k,c) multiplies at edge t + k + c; the sum for (t,c) is registered in
//            the bottom row at edge t + (R-1) + c and shown on out[c] with out_valid[c].
//   So a fold of T vectors takes R + (T + R + C - 2) edges: SCALE-Sim v2's ws fold.
//
// Output mask (one bit per column = per output index n): operand isolation. A PE's
// multiplier input is a_left while its column is unmasked (and a hold register copies
// it); while masked the input is the hold register, so it does not toggle, and the PE
// adds 0: masked outputs are 0. Inputs still travel right through the forwarding
// registers, which the unmasked columns need. mul_a exposes every PE's multiplier
// input (the weight, its other input, is stationary) so a test can count toggles.
module pe_array #(
    parameter int R = 4,
    parameter int C = 4
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  w_load,
    input  logic [C*8-1:0]        w_in,
    input  logic [R*8-1:0]        a_in,
    input  logic [R-1:0]          a_valid,
    input  logic [C-1:0]          mask,
    output logic [C*32-1:0]       out,
    output logic [C-1:0]          out_valid,
    output logic [R*C*8-1:0]      mul_a
);
  logic signed [7:0]  w     [R][C];  // stationary weights
  logic signed [7:0]  a_fwd [R][C];  // input forwarded to the right
  logic               v_fwd [R][C];  // its valid bit
  logic signed [7:0]  hold  [R][C];  // last multiplier input, kept while masked
  logic signed [7:0]  mul_in[R][C];  // multiplier input (operand-isolation mux)
  logic signed [31:0] psum  [R][C];  // partial sum passed down
  logic               pv    [R][C];  // partial sum valid

  always_comb begin
    for (int k = 0; k < R; k++)
      for (int c = 0; c < C; c++)
        mul_in[k][c] = mask[c] ? hold[k][c] : ((c == 0) ? a_in[k*8+:8] : a_fwd[k][c-1]);
  end

  always_ff @(posedge clk) begin
    for (int k = 0; k < R; k++) begin
      for (int c = 0; c < C; c++) begin
        logic signed [7:0] a_left;
        logic v_left;
        logic signed [31:0] up;
        a_left = (c == 0) ? a_in[k*8+:8] : a_fwd[k][c-1];
        v_left = (c == 0) ? a_valid[k] : v_fwd[k][c-1];
        up = (k == 0) ? 32'sd0 : psum[k-1][c];
        if (rst) begin
          w[k][c] <= '0;
          a_fwd[k][c] <= '0;
          v_fwd[k][c] <= 1'b0;
          hold[k][c] <= '0;
          psum[k][c] <= '0;
          pv[k][c] <= 1'b0;
        end else begin
          if (w_load) w[k][c] <= (k == 0) ? w_in[c*8+:8] : w[k-1][c];
          a_fwd[k][c] <= a_left;
          v_fwd[k][c] <= v_left;
          pv[k][c] <= v_left;
          hold[k][c] <= mul_in[k][c];
          psum[k][c] <= mask[c] ? up : up + 32'(mul_in[k][c]) * 32'(w[k][c]);
        end
      end
    end
  end

  always_comb begin
    for (int c = 0; c < C; c++) begin
      out[c*32+:32] = psum[R-1][c];
      out_valid[c] = pv[R-1][c];
      for (int k = 0; k < R; k++) mul_a[(k*C+c)*8+:8] = mul_in[k][c];
    end
  end
endmodule
