// Digital equivalent of one charge-domain XNOR-accumulate column of the pim model
// (docs/references.md): each lane's weight bit selects the input x or its complement ~x (that is
// XNOR, no gate), the selected bits are counted (the charge-sharing accumulation), and
// the count is compared with a threshold (the sense amplifier against the offset-voltage
// row), giving sign(popcount - threshold). A bit-serial adder accumulates multi-bit
// gradients one bit per cycle, as SIMDRAM's majority-based adder does.
//
// Timing, in clock cycles from `start`: the popcount of LANES bits is computed over
// ceil(LANES / ROWS_PER_STEP) steps (one step = one multi-row activation that shares
// charge among at most ROWS_PER_STEP cells), then one compare cycle.
//
// Multi-bit readout (`readout` high with `start`): a sense amplifier only compares, so the
// count is read out by successive approximation, one comparison per cycle, most significant
// bit first: trial = value | 2^b, value = trial when acc >= trial. CW comparisons replace
// the single compare cycle; `value` holds the count read out (equal to `count`).
module xnor_column #(
    parameter int LANES = 64,
    parameter int ROWS_PER_STEP = 16,
    parameter int CW = $clog2(LANES + 1)
) (
    input  logic             clk,
    input  logic             rst,
    input  logic             start,
    input  logic [LANES-1:0] x,
    input  logic [LANES-1:0] w,
    input  logic [CW-1:0]    threshold,
    output logic             busy,
    output logic             done,
    output logic [CW-1:0]    count,
    output logic             sign_out,
    // successive-approximation readout of the count
    input  logic             readout,
    output logic [CW-1:0]    value,
    // bit-serial adder: one bit of a and b per cycle, LSB first
    input  logic             add_valid,
    input  logic             add_first,
    input  logic             a_bit,
    input  logic             b_bit,
    output logic             sum_bit
);
  localparam int STEPS = (LANES + ROWS_PER_STEP - 1) / ROWS_PER_STEP;
  logic [LANES-1:0] sel;
  logic [$clog2(STEPS + 1)-1:0] step;
  logic [CW-1:0] acc;
  logic carry;
  logic sar;                     // this accumulate reads its count out
  logic [$clog2(CW + 1)-1:0] sar_left;  // comparisons still to do
  logic [CW-1:0] trial;
  assign trial = value | (CW'(1) << (sar_left - 1'b1));

  // Popcount of the bits of one step's rows.
  function automatic logic [CW-1:0] step_count(input logic [LANES-1:0] bits, input int s);
    logic [CW-1:0] c = '0;
    for (int i = 0; i < ROWS_PER_STEP; i++) begin
      if (s * ROWS_PER_STEP + i < LANES) c += CW'(bits[s*ROWS_PER_STEP+i]);
    end
    return c;
  endfunction

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      step <= '0;
      acc <= '0;
      count <= '0;
      sign_out <= 1'b0;
      sar <= 1'b0;
      sar_left <= '0;
      value <= '0;
    end else begin
      done <= 1'b0;
      if (start && !busy) begin
        sel <= ~(x ^ w);  // weight 1 selects x, weight 0 selects ~x
        busy <= 1'b1;
        step <= '0;
        acc <= '0;
        sar <= readout;
        sar_left <= ($clog2(CW + 1))'(CW);
        value <= '0;
      end else if (busy) begin
        if (int'(step) < STEPS) begin
          acc <= acc + step_count(sel, int'(step));
          step <= step + 1'b1;
        end else if (sar && sar_left > 1) begin
          if (acc >= trial) value <= trial;  // one sense against the reference `trial`
          sar_left <= sar_left - 1'b1;
        end else begin
          if (sar && acc >= trial) value <= trial;  // the last comparison (bit 0)
          count <= acc;
          sign_out <= (acc >= threshold);
          busy <= 1'b0;
          done <= 1'b1;
        end
      end
    end
  end

  // Bit-serial adder: sum = a ^ b ^ c, carry = MAJ(a, b, c).
  always_ff @(posedge clk) begin
    if (rst) begin
      carry <= 1'b0;
      sum_bit <= 1'b0;
    end else if (add_valid) begin
      sum_bit <= a_bit ^ b_bit ^ (add_first ? 1'b0 : carry);
      carry <= (a_bit & b_bit) | (a_bit & (add_first ? 1'b0 : carry)) | (b_bit & (add_first ? 1'b0 : carry));
    end
  end
endmodule
